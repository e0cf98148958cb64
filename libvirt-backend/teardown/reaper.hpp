// The reaper: VMs whose owner is gone (vm_owner.hpp) are torn down with everything they hold
// on the host. Runs cheaply on the way through `create` and `delete` (VM directories only) and
// fully as `runvirt gc` (also every libvirt domain carrying runvirt's metadata).
#pragma once

#include <string>
#include <vector>

#include "vm/hypervisor.hpp"

namespace runvirt::backend {

struct Orphan {
  std::string domainName;
  std::string vmDir;  // "" when only libvirt still knows the VM
  std::string why;    // "its owner, the monitor of container `web` (pid 42), is gone"
};

struct ReaperScope {
  std::string vmRoot;      // config.toml's vm_dir: one directory per VM below it
  std::string libvirtUri;  // for askLibvirt and for destroying domains
  HypervisorFactory connect;
  bool askLibvirt = false;  // also list libvirt's domains (`gc`), not only the VM directories
  // A VM directory without an owner file is a set-up in its first instants (or one that died
  // in them): an orphan only once it is this old.
  double ownerlessGraceSeconds = 60;
};

// Finds the orphans; changes nothing.
std::vector<Orphan> findOrphans(const ReaperScope& scope);

// Tears each orphan down (vm_teardown.hpp). Returns one line per orphan that could not be
// torn down completely. Only one reaper works at a time: when another holds the lock, this
// one returns at once (nothing reaped, nothing failed).
std::vector<std::string> reapOrphans(const ReaperScope& scope, const std::vector<Orphan>& orphans);

// The cheap pass of create and delete: VM directories only; failures are logged, not thrown.
void reapQuietly(const ReaperScope& scope) noexcept;

}  // namespace runvirt::backend

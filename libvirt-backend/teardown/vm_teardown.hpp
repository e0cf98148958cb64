// Taking a VM and what it holds on the host down: its domain, the share's mounts, its host
// cgroup, its VM directory and any tap a crashed set-up left in the host's namespace. Shared by
// `delete`, a failed `create`, a monitor whose creator vanished, and the reaper.
#pragma once

#include <string>
#include <vector>

#include "vm/hypervisor.hpp"

namespace runvirt::backend {

struct VmResources {
  std::string domainName;
  std::string vmDir;
  std::vector<std::string> hostTaps;  // recorded in state.json by older runvirt versions
};

// Every step is attempted even when one before it failed; the failures are thrown together.
// The domain is destroyed only when one may exist (VmPaths::domainMarker), so a container
// whose VM never started needs no libvirt to go. The taps recorded in the VM directory are
// removed too. `timings` (when given) receives "destroy VM 0.210 s, ...".
void tearDownVm(const VmResources& vm, const HypervisorFactory& connect,
                const std::string& libvirtUri, std::string* timings = nullptr);

}  // namespace runvirt::backend

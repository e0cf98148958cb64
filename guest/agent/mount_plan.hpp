// What to mount for a container, decided without touching the system (unit-tested); the
// doing is in mounts.cpp.
#pragma once

#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"
#include "runvirt/in_root.hpp"

namespace runvirt::agent {

struct MountStep {
  enum class Kind {
    Bind,        // source is relative to the share; mounted with MS_BIND (| MS_REC)
    Filesystem,  // a new instance of `type` (proc, tmpfs, sysfs, devpts, mqueue, ...)
    Cgroup,      // cgroup/cgroup2: a cgroup2 mount, best effort
  };
  Kind kind = Kind::Filesystem;
  std::string destination;  // clean path inside the container
  std::string source;
  std::string type;
  unsigned long flags = 0;  // flags of the first mount(2) call
  // Binds only: flags for a second MS_REMOUNT|MS_BIND pass (ro, nosuid, ...); 0 = no pass.
  unsigned long remountFlags = 0;
  unsigned long propagation = 0;  // MS_SHARED/MS_SLAVE/... (| MS_REC) applied last; 0 = none
  std::string data;
};

std::vector<MountStep> planMounts(const std::vector<Mount>& mounts);

// runc fills /dev with the standard nodes when it is a fresh tmpfs.
bool needsDevPopulation(const std::vector<MountStep>& steps);

}  // namespace runvirt::agent

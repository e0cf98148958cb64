// OCI mount options ("ro", "nosuid", "rbind", "mode=755", ...) -> mount(2) flags and data.
// Shared by the host (read-only binds into the share) and the guest agent (container mounts).
#pragma once

#include <string>
#include <vector>

namespace runvirt::oci {

struct MountOptions {
  unsigned long flags = 0;  // MS_* to set (MS_RDONLY, MS_NOSUID, ... MS_BIND, MS_REC)
  unsigned long propagation =
      0;                  // MS_PRIVATE/MS_SHARED/MS_SLAVE/MS_UNBINDABLE (| MS_REC), 0 = none
  std::string data;       // fs-specific options joined by ',' ("mode=755,size=65536k")
  bool bind() const;      // MS_BIND is set
  bool readonly() const;  // MS_RDONLY is set
};

// Unknown words are passed to the filesystem as data, as runc does.
MountOptions parseMountOptions(const std::vector<std::string>& options);

// Every option word parseMountOptions() knows as a flag or a propagation, sorted (`runvirt
// features`).
std::vector<std::string> knownMountOptions();

// True for a mount the host must share into the guest (type "bind" or a bind/rbind option).
bool isBindMount(const std::string& type, const std::vector<std::string>& options);

}  // namespace runvirt::oci

// Who owns a VM. Domains are not tied to a libvirt connection (a libvirtd restart would take
// them along), so every VM names its owner twice: in the domain's libvirt metadata and in
// <vm dir>/owner.json. A VM whose owner is gone is an orphan that the reaper removes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace runvirt::backend {

struct VmOwner {
  enum class Kind {
    Container,  // a container's monitor: `pid` and `startTime` are the monitor's
    Teardown,   // a process finishing a `delete` behind the user's back
  };
  Kind kind = Kind::Container;
  std::string containerId;
  std::string stateRoot;  // --root: with the id, where the container's state.json is
  pid_t pid = 0;
  std::uint64_t startTime = 0;  // of `pid` (/proc/<pid>/stat), so a reused pid is not the owner

  bool operator==(const VmOwner&) const = default;
};

std::string toString(VmOwner::Kind kind);

// The calling process as owner of kind `kind`.
VmOwner selfAsOwner(VmOwner::Kind kind, const std::string& containerId,
                    const std::string& stateRoot);

// The owner's process still runs (same pid, same start time).
bool ownerAlive(const VmOwner& owner);

// runvirt's element in a domain's <metadata>: the key libvirt files it under is the namespace.
inline constexpr const char* kMetadataNamespace = "https://runvirt.dev/xmlns/container/1";
inline constexpr const char* kMetadataPrefix = "runvirt";
inline constexpr const char* kMetadataElement = "runvirt:owner";

class XmlWriter;
// <runvirt:owner xmlns:runvirt="..." kind="container" container="ID" root="R" pid="N"
// start-time="T"/>, in <metadata> of the domain XML and alone for virDomainSetMetadata.
void writeOwnerMetadata(XmlWriter& xml, const VmOwner& owner);
std::string ownerMetadataXml(const VmOwner& owner);
// The owner in what libvirt gives back for our namespace (virDomainGetMetadata); std::nullopt
// when it is not one (another version, or not runvirt's).
std::optional<VmOwner> parseOwnerMetadata(const std::string& xml);

// <vm dir>/owner.json, written atomically.
void writeOwnerFile(const std::string& vmDir, const VmOwner& owner);
// std::nullopt when the file is missing or unreadable.
std::optional<VmOwner> readOwnerFile(const std::string& vmDir);

}  // namespace runvirt::backend

// The per-container shares, each exported to the guest by a virtio-fs device with its own cache
// policy: <vm dir>/share/ holds rootfs/ (the bundle's rootfs, cached by the guest) and an empty
// volumes/ where the guest mounts the second share; <vm dir>/volumes/ holds mounts/<n> (each
// bind mount's source, kept coherent with the host: protocol.hpp kVolumesTag). Read-only is
// enforced here, on the host bind mounts: a guest root cannot undo it.
#pragma once

#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"
#include "vm/vm_config.hpp"
#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

// Builds the share and returns the container's mount list for the agent (bind sources rewritten
// to share-relative paths). On failure, whatever was mounted is left for teardownShare.
std::vector<agent::Mount> prepareShare(const VmPaths& paths, const oci::Spec& spec,
                                       const std::string& bundle, const std::string& rootfs);

// The agent's view of the spec's mounts, without touching the host (pure, unit-tested).
std::vector<agent::Mount> guestMounts(const oci::Spec& spec);

// Where the guest finds bind mount number `index` of the spec, relative to the first share.
std::string volumeSource(std::size_t index);

// Unmounts everything under both shares. Safe to call on partial or missing shares.
void teardownShare(const VmPaths& paths);

}  // namespace runvirt::backend

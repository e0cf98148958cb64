// The per-container share: <vm dir>/share/ holds rootfs/ (the bundle's rootfs) and
// mounts/<n> (each bind-mount source), exported to the guest by one virtio-fs device.
// Read-only is enforced here, on the host bind mounts: a guest root cannot undo it.
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

// Makes the rootfs bind read-only on the host when the spec asks for a read-only root. Called
// after the agent prepared the container and before its process runs: from then on the guest
// cannot write the rootfs, whatever it does.
void sealShare(const VmPaths& paths, const oci::Spec& spec);

// Unmounts everything under the share. Safe to call on a partial or missing share.
void teardownShare(const VmPaths& paths);

}  // namespace runvirt::backend

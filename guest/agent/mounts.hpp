// Building the container's filesystem tree, in the container init's own mount namespace.
// Before pivot_root every destination is resolved inside the container root with
// openat2(RESOLVE_IN_ROOT), so a symlink in the image cannot point a mount outside it.
#pragma once

#include <string>
#include <vector>

#include "mount_plan.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

// Before pivot_root. `rootFd` is the container root, `shareFd` the virtio-fs share
// (bind sources are relative to it).
void mountAll(const std::vector<MountStep>& steps, int rootFd, int shareFd);
// runc's default /dev content on a fresh tmpfs: null zero full random urandom tty, the
// fd/stdin/stdout/stderr/ptmx/core links, and an empty console file for terminal containers.
void populateDev(int rootFd, bool withConsole);

// After pivot_root, on container paths.
void remountRootReadonly();
// maskedPaths: /dev/null over files, an empty read-only tmpfs over directories.
void maskPath(const std::string& path);
// readonlyPaths: a read-only bind of the path on itself.
void makePathReadonly(const std::string& path);

}  // namespace runvirt::agent

// Paths resolved inside a root directory that may hold hostile symlinks (a container image):
// used by the guest agent on the container root, and by the host on a rootfs it must prepare
// before sealing it read-only. Nothing here can leave the root.
#pragma once

#include <string>

#include "runvirt/unique_fd.hpp"

namespace runvirt {

// "/a/./b/../c" -> "/a/c": a lexically clean absolute path; ".." never climbs above "/".
// The result is the path inside the container root (resolved there without leaving it).
std::string cleanContainerPath(const std::string& path);

// openat2(RESOLVE_IN_ROOT): `path` is resolved as if `rootFd` were "/", so neither ".." nor
// symlinks can leave it. `rootName` names the root in errors.
UniqueFd openInRoot(int rootFd, const std::string& path, int flags,
                    const char* rootName = "the container root");

// Opens `path` in the root, creating missing directories (and a last empty file when `file`)
// the way runc's MkdirAll in securejoin does: a symlink on the way is expanded inside the root,
// and creation goes on where it points. Returns an O_PATH descriptor of the mount point.
UniqueFd makeMountpointInRoot(int rootFd, const std::string& path, bool file);

}  // namespace runvirt

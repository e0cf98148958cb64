#include "mounts.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "file_util.hpp"
#include "log.hpp"
#include "runvirt/error.hpp"
#include "runvirt/in_root.hpp"
#include "syscalls.hpp"

namespace runvirt::agent {

namespace {

void applyPropagation(const MountStep& step, int rootFd) {
  if (!step.propagation) return;
  UniqueFd mounted = sys::openInRoot(rootFd, step.destination, O_PATH);
  sys::setPropagation(fdPath(mounted.get()), step.propagation, step.destination);
}

void mountBind(const MountStep& step, int rootFd, int shareFd) {
  UniqueFd source = sys::openInRoot(shareFd, step.source, O_PATH, "the share");
  struct stat st {};
  if (::fstat(source.get(), &st) != 0) throwErrno("stat bind source " + quote(step.source));
  UniqueFd target = makeMountpointInRoot(rootFd, step.destination, !S_ISDIR(st.st_mode));
  sys::bindMount(fdPath(source.get()), fdPath(target.get()), step.flags, step.source,
                 step.destination);
  if (step.remountFlags) {
    // Reopen: the old fd names the directory under the new mount, not the mount itself.
    UniqueFd mounted = sys::openInRoot(rootFd, step.destination, O_PATH);
    sys::remount(fdPath(mounted.get()), MS_BIND | step.remountFlags, step.destination);
  }
}

void mountFilesystem(const MountStep& step, int rootFd) {
  UniqueFd target = makeMountpointInRoot(rootFd, step.destination, false);
  sys::mountFilesystem(step.source, fdPath(target.get()), step.type, step.flags, step.data,
                       step.destination);
}

void mountOne(const MountStep& step, int rootFd, int shareFd) {
  switch (step.kind) {
    case MountStep::Kind::Bind:
      mountBind(step, rootFd, shareFd);
      break;
    case MountStep::Kind::Filesystem:
      mountFilesystem(step, rootFd);
      break;
    case MountStep::Kind::Cgroup:
      try {
        mountFilesystem(step, rootFd);
      } catch (const Error& e) {
        log::debug("cgroup mount skipped: %s", e.what());  // best effort, as documented
        return;
      }
      break;
  }
  applyPropagation(step, rootFd);
}

unsigned long preservedFlags(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) throwErrno("statvfs " + quote(path));
  unsigned long flags = 0;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// false when `path` does not exist (masked and read-only paths skip those, as runc does).
bool statIfExists(const std::string& path, struct stat& st) {
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  throwErrno("stat " + quote(path));
}

}  // namespace

void mountAll(const std::vector<MountStep>& steps, int rootFd, int shareFd) {
  for (const auto& step : steps) mountOne(step, rootFd, shareFd);
}

void populateDev(int rootFd, bool withConsole) {
  struct Node {
    const char* name;
    unsigned major, minor;
  };
  static constexpr Node kNodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  static constexpr const char* kLinks[][2] = {{"/proc/self/fd", "fd"},
                                              {"/proc/self/fd/0", "stdin"},
                                              {"/proc/self/fd/1", "stdout"},
                                              {"/proc/self/fd/2", "stderr"},
                                              {"pts/ptmx", "ptmx"}};
  UniqueFd dev = sys::openInRoot(rootFd, "/dev", O_PATH | O_DIRECTORY);
  for (const auto& node : kNodes) {
    sys::makeNode(dev.get(), node.name, S_IFCHR | 0666, makedev(node.major, node.minor));
    if (::fchmodat(dev.get(), node.name, 0666, 0) != 0)
      throwErrno(std::string("chmod /dev/") + node.name);
  }
  for (const auto& link : kLinks) {
    if (::symlinkat(link[0], dev.get(), link[1]) != 0 && errno != EEXIST) {
      throwErrno(std::string("symlink /dev/") + link[1]);
    }
  }
  if (::access("/proc/kcore", F_OK) == 0 && ::symlinkat("/proc/kcore", dev.get(), "core") != 0 &&
      errno != EEXIST) {
    throwErrno("symlink /dev/core");
  }
  if (withConsole) makeMountpointInRoot(dev.get(), "/console", true);
}

void remountRootReadonly() { sys::remount("/", MS_BIND | MS_RDONLY | preservedFlags("/")); }

void maskPath(const std::string& path) {
  struct stat st {};
  if (!statIfExists(path, st)) return;
  if (S_ISDIR(st.st_mode)) {
    sys::mountFilesystem("tmpfs", path, "tmpfs", MS_RDONLY, "");
  } else {
    sys::bindMount("/dev/null", path, 0);
  }
}

void makePathReadonly(const std::string& path) {
  struct stat st {};
  if (!statIfExists(path, st)) return;
  sys::bindMount(path, path, MS_REC);
  sys::remount(path, MS_BIND | MS_RDONLY | MS_REC | preservedFlags(path));
}

}  // namespace runvirt::agent

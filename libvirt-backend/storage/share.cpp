#include "storage/share.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/files.hpp"
#include "storage/host_mounts.hpp"
#include "runvirt/error.hpp"
#include "runvirt/in_root.hpp"
#include "runvirt/oci/mount_options.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

std::string absoluteSource(const std::string& bundle, const std::string& source) {
  return !source.empty() && source[0] == '/' ? source : bundle + "/" + source;
}

// Creates the mount point for `source`: a directory for a directory, an empty file otherwise.
void makeMountPoint(const std::string& source, const std::string& target) {
  struct stat st {};
  if (stat(source.c_str(), &st) < 0) throwErrno("stat " + source);
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(target.c_str(), 0755) < 0 && errno != EEXIST) throwErrno("mkdir " + target);
  } else {
    UniqueFd fd(open(target.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) throwErrno("create " + target);
  }
}

void bindMount(const std::string& source, const std::string& target, bool recursive) {
  // PRIVILEGED: host bind mount into the share; virtiofsd exports what it sees here.
  if (mount(source.c_str(), target.c_str(), nullptr, MS_BIND | (recursive ? MS_REC : 0), nullptr) <
      0) {
    throwErrno("bind " + source + " to " + target);
  }
}

// Read-only for the whole subtree, so submounts of an rbind cannot be written either.
void makeReadOnly(const std::string& target) {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  // PRIVILEGED: the host-side enforcement of a read-only volume.
  if (mount_setattr(AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof attr) < 0) {
    throwErrno("make " + target + " read-only");
  }
}

// A read-only root is sealed here, before virtiofsd starts and takes its own copy of these
// mounts (a seal made later would not reach it). The mount points the guest needs are made
// first, in the rootfs and without leaving it, as runc makes them before it turns the root
// read-only.
void sealReadonlyRoot(const std::string& rootfsBind, const oci::Spec& spec,
                      const std::string& bundle) {
  UniqueFd root(open(rootfsBind.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) throwErrno("open " + rootfsBind);
  for (const auto& m : spec.mounts) {
    withContext("mount point " + quote(m.destination), [&] {
      bool file = false;
      if (oci::isBindMount(m.type, m.options)) {
        struct stat st {};
        std::string source = absoluteSource(bundle, m.source);
        if (stat(source.c_str(), &st) < 0) throwErrno("stat " + source);
        file = !S_ISDIR(st.st_mode);
      }
      makeMountpointInRoot(root.get(), m.destination, file);
    });
  }
  makeReadOnly(rootfsBind);
}

}  // namespace

std::string volumeSource(std::size_t index) {
  return std::string(agent::kVolumesMountPoint) + "/mounts/" + std::to_string(index);
}

std::vector<agent::Mount> guestMounts(const oci::Spec& spec) {
  std::vector<agent::Mount> out;
  for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    if (oci::isBindMount(m.type, m.options)) {
      out.push_back({m.destination, "bind", volumeSource(i), m.options});
    } else {
      out.push_back({m.destination, m.type, m.source, m.options});
    }
  }
  return out;
}

std::vector<agent::Mount> prepareShare(const VmPaths& paths, const oci::Spec& spec,
                                       const std::string& bundle, const std::string& rootfs) {
  std::string share = paths.shareDir(), volumes = paths.volumesDir();
  makeDirs(volumes + "/mounts", 0700);
  for (const std::string& dir :
       {share, share + "/rootfs", share + "/" + std::string(agent::kVolumesMountPoint)}) {
    if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) throwErrno("mkdir " + dir);
  }
  // Each share's own top level is a read-only private bind, so the guest can write only inside
  // the rootfs and volume binds, never fill the host's /run beside them.
  for (const std::string& top : {share, volumes}) {
    bindMount(top, top, false);
    // PRIVILEGED: keep the share's binds from propagating into other mount namespaces.
    if (mount(nullptr, top.c_str(), nullptr, MS_PRIVATE, nullptr) < 0)
      throwErrno("make " + top + " private");
  }

  bindMount(rootfs, share + "/rootfs", true);
  if (spec.root.readonly) sealReadonlyRoot(share + "/rootfs", spec, bundle);

  for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    if (!oci::isBindMount(m.type, m.options)) continue;
    withContext("mount " + quote(m.destination), [&] {
      std::string source = absoluteSource(bundle, m.source);
      std::string target = volumes + "/mounts/" + std::to_string(i);
      makeMountPoint(source, target);
      auto options = oci::parseMountOptions(m.options);
      bindMount(source, target, options.flags & MS_REC);
      if (options.readonly()) makeReadOnly(target);
    });
  }

  for (const std::string& top : {share, volumes}) {
    // PRIVILEGED: the read-only top level (children keep their own flags).
    if (mount(nullptr, top.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0) {
      throwErrno("make " + top + " read-only");
    }
  }
  return guestMounts(spec);
}

void teardownShare(const VmPaths& paths) {
  unmountAllUnder(paths.volumesDir());
  unmountAllUnder(paths.shareDir());
}

}  // namespace runvirt::backend

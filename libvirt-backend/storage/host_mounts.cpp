#include "storage/host_mounts.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "common/files.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

namespace fs = std::filesystem;

namespace {

std::string decodeOctalEscapes(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      std::string digits = field.substr(i + 1, 3);
      if (digits.size() == 3 &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>(std::stoi(digits, nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

bool isAtOrBelow(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

}  // namespace

std::string mountPointOfMountinfoLine(const std::string& line) {
  std::istringstream fields(line);
  std::string field;
  for (int i = 0; i < 5 && fields >> field; ++i) {
  }
  return decodeOctalEscapes(field);
}

std::vector<std::string> mountPointsUnder(const std::string& spelled) {
  // mountinfo spells mount points canonically; so must the directory they are matched with.
  std::string dir = canonicalPath(spelled);
  std::vector<std::string> out;
  std::istringstream lines(readFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(lines, line)) {
    std::string mountPoint = mountPointOfMountinfoLine(line);
    if (isAtOrBelow(mountPoint, dir)) out.push_back(mountPoint);
  }
  return out;
}

void unmountAllUnder(const std::string& dir) {
  auto mounts = mountPointsUnder(dir);
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    // PRIVILEGED: detach the host side of a share; virtiofsd may still hold a reference.
    if (umount2(it->c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
      throwErrno("unmount " + *it);
    }
  }
}

namespace {

// The kernel's word, not a path comparison: whatever the spelling, a mount point stops removal.
bool isMountRoot(const struct statx& stx) {
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

void removeEntries(const std::string& path, const std::string& top) {
  struct statx stx {};
  if (statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0) {
    if (errno == ENOENT) return;
    throwErrno("stat " + path);
  }
  if (isMountRoot(stx))
    throw Error("refusing to remove " + top + ": " + path + " is a mount point");
  if (S_ISDIR(stx.stx_mode)) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(path, ec)) removeEntries(entry.path(), top);
    if (rmdir(path.c_str()) < 0 && errno != ENOENT) throwErrno("remove " + path);
  } else if (unlink(path.c_str()) < 0 && errno != ENOENT) {
    throwErrno("remove " + path);
  }
}

}  // namespace

void removeTree(const std::string& path) {
  // A bind mount below `path` would make rm -rf empty the bound source (e.g. a bundle's
  // rootfs): refuse instead. Callers unmount first.
  auto mounts = mountPointsUnder(path);
  if (!mounts.empty())
    throw Error("refusing to remove " + path + ": " + mounts.back() + " is still mounted");
  removeEntries(path, path);
}

}  // namespace runvirt::backend

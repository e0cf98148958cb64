#include "devices.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <thread>

#include "file_util.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/unique_fd.hpp"
#include "syscalls.hpp"

namespace runvirt::agent {

namespace {

std::optional<std::string> findDisk(const std::string& sysBlock, const std::string& serial) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(sysBlock.c_str()), ::closedir);
  if (!dir) return std::nullopt;
  while (dirent* entry = ::readdir(dir.get())) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    auto found = readFileIfExists(sysBlock + "/" + name + "/serial");
    if (found && trimRight(*found) == serial)
      return trimRight(readFile(sysBlock + "/" + name + "/dev"));
  }
  return std::nullopt;
}

dev_t parseNumbers(const std::string& numbers) {
  auto colon = numbers.find(':');
  if (colon == std::string::npos) throw Error("bad device numbers " + quote(numbers));
  return makedev(std::stoul(numbers.substr(0, colon)), std::stoul(numbers.substr(colon + 1)));
}

// The directory holding `path` (under /dev), made as needed without following symlinks.
UniqueFd openParent(int rootFd, const std::string& path, std::string& name) {
  UniqueFd dir = sys::openInRoot(rootFd, "/dev", O_PATH | O_DIRECTORY);
  std::size_t start = 5;  // after "/dev/"; the host checked the spelling
  for (std::size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1) {
    std::string part = path.substr(start, slash - start);
    if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST)
      throwErrno("mkdir " + quote(part));
    UniqueFd next(::openat(dir.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) throwErrno("open " + quote(part));
    dir = std::move(next);
  }
  name = path.substr(start);
  return dir;
}

void createDevice(int rootFd, const Device& d) {
  mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
  dev_t numbers = 0;
  if (d.type == "b") {
    numbers = parseNumbers(blockDeviceNumbers("/sys/block", d.serial, std::chrono::seconds(5)));
  } else if (d.type != "p") {
    numbers = makedev(d.major, d.minor);
  }
  std::string name;
  UniqueFd dir = openParent(rootFd, d.path, name);
  struct stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    return;  // runc keeps it too
  sys::makeNode(dir.get(), name, type | (d.fileMode & 07777), numbers);
  // mknod honours the umask; the spec's mode is the node's. Not a symlink: just made.
  if (::fchmodat(dir.get(), name.c_str(), d.fileMode & 07777, 0) != 0) throwErrno("chmod");
  if (::fchownat(dir.get(), name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0)
    throwErrno("chown");
}

}  // namespace

std::string blockDeviceNumbers(const std::string& sysBlock, const std::string& serial,
                               std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (auto numbers = findDisk(sysBlock, serial)) return *numbers;
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error("no disk with serial " + quote(serial));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void createDevices(int rootFd, const std::vector<Device>& devices) {
  for (const auto& d : devices) {
    withContext("device " + quote(d.path), [&] { createDevice(rootFd, d); });
  }
}

}  // namespace runvirt::agent

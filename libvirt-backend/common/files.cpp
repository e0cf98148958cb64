#include "common/files.hpp"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>

#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

// `path` + ".tmp-" + 16 random hex digits: in the target's directory (rename() stays within one
// file system), and not a name anyone can plant a symlink at in advance.
std::string temporaryName(const std::string& path) {
  std::random_device random;
  std::uniform_int_distribution<std::uint64_t> dist;
  char suffix[24];
  snprintf(suffix, sizeof suffix, ".tmp-%016llx", static_cast<unsigned long long>(dist(random)));
  return path + suffix;
}

// A new file of our own: O_EXCL|O_NOFOLLOW never opens what was there (a symlink to a file root
// would then truncate and chmod), and a name that is taken is tried again with another.
UniqueFd createTemporary(const std::string& path, mode_t mode, std::string& tmp) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    tmp = temporaryName(path);
    UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (fd) return fd;
    if (errno != EEXIST) throwErrno("create " + tmp);
  }
  throw Error("create a temporary file next to " + path + ": every name tried exists");
}

void writeAll(int fd, const std::string& content, const std::string& name) {
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwErrno("write " + name);
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void writeFileAtomic(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp;
  UniqueFd fd = createTemporary(path, mode, tmp);
  try {
    writeAll(fd.get(), content, tmp);
    if (fchmod(fd.get(), mode) < 0) throwErrno("chmod " + tmp);  // the fd's file, exactly `mode`
    fd.reset();
    if (rename(tmp.c_str(), path.c_str()) < 0) throwErrno("rename " + tmp + " to " + path);
  } catch (const Error&) {
    unlink(tmp.c_str());
    throw;
  }
}

void makeDirs(const std::string& path, mode_t mode) {
  std::string current;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    current = path.substr(0, pos);
    if (current.empty()) continue;
    if (mkdir(current.c_str(), mode) < 0 && errno != EEXIST) throwErrno("mkdir " + current);
  }
}

std::string canonicalPath(const std::string& path) {
  std::error_code ec;
  std::string out = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  if (ec) throw Error("resolve " + quote(path) + ": " + ec.message());
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool pathExists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

std::string executablePath() {
  char buf[PATH_MAX];
  if (!realpath("/proc/self/exe", buf)) throwErrno("resolve /proc/self/exe");
  return buf;
}

}  // namespace runvirt::backend

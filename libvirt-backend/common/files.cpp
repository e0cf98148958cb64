#include "common/files.hpp"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

void writeFileAtomic(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) throwErrno("create " + tmp);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwErrno("write " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (fchmod(fd.get(), mode) < 0) throwErrno("chmod " + tmp);
  fd.reset();
  if (rename(tmp.c_str(), path.c_str()) < 0) throwErrno("rename " + tmp + " to " + path);
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

bool pathExists(const std::string& path) {
  struct stat st{};
  return lstat(path.c_str(), &st) == 0;
}

std::string executablePath() {
  char buf[PATH_MAX];
  if (!realpath("/proc/self/exe", buf)) throwErrno("resolve /proc/self/exe");
  return buf;
}

}  // namespace runvirt::backend

#include "file_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

std::optional<std::string> readFileIfExists(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throwErrno("open " + quote(path));
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throwErrno("read " + quote(path));
    if (n == 0) return text;
    text.append(buffer, std::size_t(n));
  }
}

std::string readFile(const std::string& path) {
  auto text = readFileIfExists(path);
  if (!text) throw Error("open " + quote(path) + ": No such file or directory", ErrorKind::NotFound, ENOENT);
  return *text;
}

void writeFile(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (!fd) throwErrno("open " + quote(path));
  ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n < 0) throwErrno("write " + quote(path));
  if (std::size_t(n) != text.size()) throw Error("short write to " + quote(path));
}

std::string fdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string trimRight(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) {
    text.pop_back();
  }
  return text;
}

}  // namespace runvirt::agent

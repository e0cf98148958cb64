#include "file_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

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

#include "runvirt/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt {

namespace {

constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();

std::string readBounded(int fd, const std::string& name, std::size_t maxBytes) {
  std::string content;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwErrno("read " + name);
    }
    if (n == 0) return content;
    if (static_cast<std::size_t>(n) > maxBytes - content.size()) {
      throw Error("read " + name + ": larger than " + std::to_string(maxBytes) + " bytes",
                  ErrorKind::InvalidArgument);
    }
    content.append(buf, static_cast<std::size_t>(n));
  }
}

// std::nullopt for a missing file, when `missingIsNullopt`.
std::optional<std::string> readPath(const std::string& path, std::size_t maxBytes,
                                    bool missingIsNullopt) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (missingIsNullopt && errno == ENOENT) return std::nullopt;
    throwErrno("open " + path);
  }
  return readBounded(fd.get(), path, maxBytes);
}

}  // namespace

std::string readFile(const std::string& path) { return *readPath(path, kUnbounded, false); }

std::optional<std::string> readFileIfExists(const std::string& path) {
  return readPath(path, kUnbounded, true);
}

std::string readFileBounded(const std::string& path, std::size_t maxBytes) {
  return *readPath(path, maxBytes, false);
}

std::string readAll(int fd, const std::string& name) { return readBounded(fd, name, kUnbounded); }

}  // namespace runvirt

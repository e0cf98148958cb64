#include "runvirt/in_root.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "runvirt/error.hpp"

namespace runvirt {

std::string cleanContainerPath(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  std::string clean;
  for (const auto& part : parts) clean += "/" + part;
  return clean.empty() ? "/" : clean;
}

UniqueFd openInRoot(int rootFd, const std::string& path, int flags, const char* rootName) {
  open_how how{};
  how.flags = std::uint64_t(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, rootFd, path.c_str(), &how, sizeof how);
  if (fd < 0) throwErrno("open " + quote(path) + " in " + rootName);
  return UniqueFd(int(fd));
}

namespace {

std::vector<std::string> components(const std::string& cleanPath) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start < cleanPath.size()) {
    std::size_t end = cleanPath.find('/', start);
    if (end == std::string::npos) end = cleanPath.size();
    parts.push_back(cleanPath.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string readLink(int dirFd, const std::string& name, const std::string& shown) {
  char target[4096];
  ssize_t n = ::readlinkat(dirFd, name.c_str(), target, sizeof target - 1);
  if (n < 0) throwErrno("readlink " + quote(shown));
  return std::string(target, std::size_t(n));
}

void createEntry(int parentFd, const std::string& name, bool file, const std::string& shown) {
  if (file) {
    UniqueFd fd(
        ::openat(parentFd, name.c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd && errno != EEXIST) throwErrno("create mountpoint file " + quote(shown));
  } else if (::mkdirat(parentFd, name.c_str(), 0755) != 0 && errno != EEXIST) {
    throwErrno("create mountpoint directory " + quote(shown));
  }
}

std::string joinComponents(const std::vector<std::string>& parts, std::size_t from) {
  std::string joined;
  for (std::size_t i = from; i < parts.size(); ++i) joined += "/" + parts[i];
  return joined;
}

}  // namespace

UniqueFd makeMountpointInRoot(int rootFd, const std::string& path, bool file) {
  try {
    return openInRoot(rootFd, path, O_PATH);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::NotFound) throw;
  }
  constexpr int kMaxSymlinks = 40;
  int expansions = 0;
  auto parts = components(cleanContainerPath(path));
  std::string prefix;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    UniqueFd parent = openInRoot(rootFd, prefix.empty() ? "/" : prefix, O_PATH | O_DIRECTORY);
    struct stat st {};
    if (::fstatat(parent.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
      if (++expansions > kMaxSymlinks) throw Error("too many symlinks in " + quote(path));
      std::string target = readLink(parent.get(), parts[i], prefix + "/" + parts[i]);
      std::string rest = joinComponents(parts, i + 1);
      parts = components(cleanContainerPath(
          (!target.empty() && target[0] == '/' ? target : prefix + "/" + target) + rest));
      prefix.clear();
      i = std::size_t(-1);  // start over on the expanded path
      continue;
    }
    createEntry(parent.get(), parts[i], file && i + 1 == parts.size(), prefix + "/" + parts[i]);
    prefix += "/" + parts[i];
  }
  return openInRoot(rootFd, path, O_PATH);
}

}  // namespace runvirt

#include "exec_lookup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "go_compat.hpp"
#include "runvirt/error.hpp"

namespace runvirt::agent {

namespace {

// Go's findExecutable: empty string when `path` can be executed, else the error text.
std::string executableProblem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "stat " + path + ": " + goErrnoText(errno);
  // A directory is "permission denied", as runc reports it (Go before 1.21).
  if (S_ISDIR(st.st_mode)) return goErrnoText(EACCES);
  if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0) return "";
  if (errno != ENOSYS && errno != EPERM) return goErrnoText(errno);
  return (st.st_mode & 0111) ? "" : goErrnoText(EACCES);
}

[[noreturn]] void throwLookup(const std::string& name, const std::string& problem) {
  throw Error("exec: " + goQuote(name) + ": " + problem, ErrorKind::NotFound);
}

std::vector<std::string> splitPathList(const std::string& list) {
  std::vector<std::string> dirs;
  if (list.empty()) return dirs;  // Go: an empty $PATH has no elements at all
  std::size_t start = 0;
  for (;;) {
    std::size_t end = list.find(':', start);
    dirs.push_back(list.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) return dirs;
    start = end + 1;
  }
}

}  // namespace

std::optional<std::string> envValue(const std::vector<std::string>& env, std::string_view key) {
  std::optional<std::string> value;
  for (const auto& entry : env) {
    if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 &&
        entry[key.size()] == '=') {
      value = entry.substr(key.size() + 1);
    }
  }
  return value;
}

std::string lookPath(const std::string& name, const std::string& pathEnv) {
  if (name.find('/') != std::string::npos) {
    std::string problem = executableProblem(name);
    if (!problem.empty()) throwLookup(name, problem);
    return name;
  }
  if (!name.empty()) {
    for (std::string dir : splitPathList(pathEnv)) {
      if (dir.empty()) dir = ".";
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      std::string candidate = dir == "/" ? "/" + name : dir + "/" + name;
      if (!executableProblem(candidate).empty()) continue;
      if (candidate.front() != '/') {
        throwLookup(name, "cannot run executable found relative to current directory");
      }
      return candidate;
    }
  }
  throwLookup(name, "executable file not found in $PATH");
}

}  // namespace runvirt::agent

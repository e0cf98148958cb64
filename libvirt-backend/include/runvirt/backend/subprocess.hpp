// fork + execve without a shell: argv is passed as is, never through a command string.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace runvirt::backend {

struct SpawnOptions {
  std::string path;                       // executable
  std::vector<std::string> argv;          // argv[0] included
  std::optional<std::vector<std::string>> env;  // nullopt = inherit
  // (child fd, parent fd) pairs; every other fd is closed in the child.
  std::vector<std::pair<int, int>> fds;
  bool newSession = false;  // setsid() in the child
};

// Returns the child's pid once execve succeeded; throws Error("exec `path`: ...") when it failed.
pid_t spawn(const SpawnOptions& options);

// Waits up to `timeoutSeconds` (< 0: forever). Returns the wait status, or nullopt on timeout.
std::optional<int> waitWithTimeout(pid_t pid, double timeoutSeconds);

// "exit status 3" / "signal: killed" (Go's wording, as runc prints hook failures).
std::string describeWaitStatus(int status);

}  // namespace runvirt::backend

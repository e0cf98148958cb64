// fork + execve without a shell: argv is passed as is, never through a command string.
#pragma once

#include <sys/types.h>

#include <functional>
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

// What readUntil() read, and whether it stopped at end of file.
struct ReadOutcome {
  std::string output;
  bool endOfFile = false;
};

// Reads `fd` (a child's output pipe) until end of file, until `timeoutSeconds` passed, or until
// `enough(output)` holds. Past 64 KiB only the last 4 KiB are kept (a chatty child).
ReadOutcome readUntil(int fd, double timeoutSeconds, const std::function<bool(const std::string&)>& enough);

// "exit status 3" / "signal: killed" (Go's wording, as runc prints hook failures).
std::string describeWaitStatus(int status);

}  // namespace runvirt::backend

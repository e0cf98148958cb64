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
  std::string path;                             // executable
  std::vector<std::string> argv;                // argv[0] included
  std::optional<std::vector<std::string>> env;  // nullopt = inherit
  // (child fd, parent fd) pairs; every other fd is closed in the child.
  std::vector<std::pair<int, int>> fds;
  bool newSession = false;  // setsid() in the child
};

// Returns the child's pid once execve succeeded; throws Error("exec `path`: ...") when it failed.
pid_t spawn(const SpawnOptions& options);

// Waits up to `timeoutSeconds` (< 0: forever). Returns the wait status, or nullopt on timeout.
std::optional<int> waitWithTimeout(pid_t pid, double timeoutSeconds);

// What readUntil() or readToEnd() read from one pipe, and whether that pipe reached end of file.
struct ReadOutcome {
  std::string output;
  bool endOfFile = false;
};

// Reads `fd` (a child's output pipe) until end of file, until `timeoutSeconds` passed, or until
// `enough(output)` holds. Past 64 KiB only the last 4 KiB are kept (a chatty child).
ReadOutcome readUntil(int fd, double timeoutSeconds,
                      const std::function<bool(const std::string&)>& enough);

// Reads a child's output pipes (stdout and stderr apart) all at once, since a child blocks on a
// full pipe nobody reads, until each reached end of file or `timeoutSeconds` passed (nullopt: no
// limit). Each keeps its first `keepAtMost` bytes and drops the rest. One outcome per fd, in their
// order.
std::vector<ReadOutcome> readToEnd(const std::vector<int>& fds,
                                   std::optional<double> timeoutSeconds, std::size_t keepAtMost);

// "exit status 3" / "signal: killed" (Go's wording, as runc prints hook failures).
std::string describeWaitStatus(int status);

}  // namespace runvirt::backend

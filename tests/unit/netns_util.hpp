// Helpers for unit tests that change network settings: they do it in a throwaway network
// namespace of a child process, so the host's is never touched.
#pragma once

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace runvirt::test {

// Runs `body` in a child process with a network namespace of its own, so that the host's is
// never touched. Nothing may throw across the fork: the child's exit status is the number of
// failed checks `body` returns (at most 76), 77 when there is no privilege for a namespace, 100
// when `body` threw (its message on stderr).
inline int inThrowawayNetworkNamespace(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(77);
    int status = 0;
    try {
      status = std::min(body(), 76);
    } catch (const std::exception& e) {
      fprintf(stderr, "%s\n", e.what());
      status = 100;
    }
    _exit(status);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

// Checks in a child process, where gtest cannot report: each failed one is printed to stderr
// and counted.
class ChildChecks {
 public:
  bool expect(bool ok, const std::string& what) {
    if (!ok) {
      fprintf(stderr, "check failed: %s\n", what.c_str());
      ++failures_;
    }
    return ok;
  }
  int failures() const { return failures_; }

 private:
  int failures_ = 0;
};

// Runs a program found on $PATH, without a shell; its exit status (127: it could not run).
inline int runProgram(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace runvirt::test

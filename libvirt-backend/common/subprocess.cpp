#include "common/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "runvirt/error.hpp"
#include "common/log.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

std::vector<char*> cStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Runs in the child between fork and execve: only async-signal-safe calls.
[[noreturn]] void execChild(const SpawnOptions& o, char* const* argv, char* const* envp,
                            int errorPipe) {
  if (o.newSession) setsid();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Move sources out of the way first so a mapping cannot clobber another's source.
  int moved[64];
  bool target[64] = {};
  int maxTarget = 2;
  std::size_t count = o.fds.size() < 64 ? o.fds.size() : 64;
  for (std::size_t i = 0; i < count; ++i) moved[i] = fcntl(o.fds[i].second, F_DUPFD_CLOEXEC, 100);
  for (std::size_t i = 0; i < count; ++i) {
    dup2(moved[i], o.fds[i].first);
    if (o.fds[i].first < 64) target[o.fds[i].first] = true;
    if (o.fds[i].first > maxTarget) maxTarget = o.fds[i].first;
  }
  int keepError = fcntl(errorPipe, F_DUPFD_CLOEXEC, maxTarget + 1);
  // Only fds 0-2 and the mapped fds survive, whatever gaps the mapping leaves.
  for (int fd = 3; fd <= maxTarget; ++fd) {
    if (!target[fd]) close(fd);
  }
  syscall(SYS_close_range, maxTarget + 1, keepError - 1, 0);
  syscall(SYS_close_range, keepError + 1, ~0U, 0);
  execve(o.path.c_str(), argv, envp);
  int err = errno;
  [[maybe_unused]] ssize_t n = write(keepError, &err, sizeof err);
  _exit(127);
}

}  // namespace

pid_t spawn(const SpawnOptions& o) {
  auto argv = cStrings(o.argv);
  std::vector<std::string> envStrings;
  if (o.env) envStrings = *o.env;
  auto envp = cStrings(envStrings);
  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) < 0) throwErrno("pipe");
  UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
  pid_t pid = fork();
  if (pid < 0) throwErrno("fork");
  if (pid == 0) execChild(o, argv.data(), o.env ? envp.data() : environ, writeEnd.get());
  writeEnd.reset();
  int err = 0;
  ssize_t n;
  do {
    n = read(readEnd.get(), &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof err) {
    waitpid(pid, nullptr, 0);
    throwErrno("exec " + quote(o.path), err);
  }
  return pid;
}

namespace {

struct PipeRead {
  int fd;
  ReadOutcome outcome;
};

// The one poll loop over a child's output pipes: reads what arrives until every pipe reached end
// of file, until `deadline` (log::monotonicSeconds()) passed, or until `received(pipe)`, called
// after each read, returns true.
void readPipes(std::vector<PipeRead>& pipes, std::optional<double> deadline,
               const std::function<bool(PipeRead&)>& received) {
  std::vector<pollfd> polled(pipes.size());
  char buf[8192];
  for (;;) {
    bool anyOpen = false;
    for (std::size_t i = 0; i < pipes.size(); ++i) {
      polled[i] = {pipes[i].outcome.endOfFile ? -1 : pipes[i].fd, POLLIN, 0};  // poll skips fd -1
      anyOpen = anyOpen || !pipes[i].outcome.endOfFile;
    }
    if (!anyOpen) return;
    int waitMs = -1;
    if (deadline) {
      double left = *deadline - log::monotonicSeconds();
      if (left <= 0) return;
      waitMs =
          static_cast<int>(left * 1000) + 1;  // rounded up: no busy loop in the last millisecond
    }
    int rc = poll(polled.data(), polled.size(), waitMs);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throwErrno("poll a child's output");
    if (rc == 0) return;
    for (std::size_t i = 0; i < pipes.size(); ++i) {
      if (!polled[i].revents) continue;
      ssize_t n = read(pipes[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        pipes[i].outcome.endOfFile = true;
        continue;
      }
      pipes[i].outcome.output.append(buf, static_cast<std::size_t>(n));
      if (received(pipes[i])) return;
    }
  }
}

}  // namespace

ReadOutcome readUntil(int fd, double timeoutSeconds,
                      const std::function<bool(const std::string&)>& enough) {
  constexpr std::size_t kKeepAtMost = 65536, kKeepTail = 4096;
  std::vector<PipeRead> pipes{{fd, {}}};
  readPipes(pipes, log::monotonicSeconds() + timeoutSeconds, [&](PipeRead& pipe) {
    std::string& output = pipe.outcome.output;
    if (enough(output)) return true;
    if (output.size() > kKeepAtMost) output.erase(0, output.size() - kKeepTail);
    return false;
  });
  return std::move(pipes[0].outcome);
}

std::vector<ReadOutcome> readToEnd(const std::vector<int>& fds,
                                   std::optional<double> timeoutSeconds, std::size_t keepAtMost) {
  std::vector<PipeRead> pipes;
  for (int fd : fds) pipes.push_back({fd, {}});
  std::optional<double> deadline;
  if (timeoutSeconds) deadline = log::monotonicSeconds() + *timeoutSeconds;
  readPipes(pipes, deadline, [&](PipeRead& pipe) {
    if (pipe.outcome.output.size() > keepAtMost) pipe.outcome.output.resize(keepAtMost);
    return false;
  });
  std::vector<ReadOutcome> outcomes;
  for (auto& pipe : pipes) outcomes.push_back(std::move(pipe.outcome));
  return outcomes;
}

std::optional<int> waitWithTimeout(pid_t pid, double timeoutSeconds) {
  if (timeoutSeconds >= 0) {
    UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (pidfd) {
      pollfd p{pidfd.get(), POLLIN, 0};
      int rc;
      do {
        rc = poll(&p, 1, static_cast<int>(timeoutSeconds * 1000));
      } while (rc < 0 && errno == EINTR);
      if (rc == 0) return std::nullopt;
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throwErrno("wait for process " + std::to_string(pid));
  }
  return status;
}

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal: ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace runvirt::backend

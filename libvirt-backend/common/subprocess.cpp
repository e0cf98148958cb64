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
[[noreturn]] void execChild(const SpawnOptions& o, char* const* argv, char* const* envp, int errorPipe) {
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

ReadOutcome readUntil(int fd, double timeoutSeconds, const std::function<bool(const std::string&)>& enough) {
  constexpr std::size_t kKeepAtMost = 65536, kKeepTail = 4096;
  ReadOutcome r;
  double deadline = log::monotonicSeconds() + timeoutSeconds;
  for (;;) {
    double left = deadline - log::monotonicSeconds();
    if (left <= 0) return r;
    pollfd p{fd, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left * 1000) + 1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return r;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.endOfFile = true;
      return r;
    }
    r.output.append(buf, static_cast<std::size_t>(n));
    if (enough(r.output)) return r;
    if (r.output.size() > kKeepAtMost) r.output.erase(0, r.output.size() - kKeepTail);
  }
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

// `runvirt run`: create, start, then stay in the foreground like runc run.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runvirt/backend/runtime.hpp"
#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

// What a person or a supervisor sends to `run` is meant for the container.
sigset_t forwardedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT}) sigaddset(&set, s);
  return set;
}

int waitForwardingSignals(pid_t monitor, const sigset_t& set) {
  UniqueFd signals(signalfd(-1, &set, SFD_CLOEXEC));
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, monitor, 0)));
  if (!signals || !pidfd) throwErrno("watch the container's monitor");
  for (;;) {
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throwErrno("poll");
    }
    if (fds[1].revents) {
      signalfd_siginfo info{};
      if (read(signals.get(), &info, sizeof info) == sizeof info) ::kill(monitor, static_cast<int>(info.ssi_signo));
    }
    if (fds[0].revents) break;
  }
  int status = 0;
  while (waitpid(monitor, &status, 0) < 0) {
    if (errno != EINTR) throwErrno("wait for the container's monitor");
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

int Runtime::run(const CreateOptions& options, bool detach, bool keep) {
  // Blocked before the monitor exists, so no signal slips between create and the wait.
  sigset_t set = forwardedSignals();
  sigprocmask(SIG_BLOCK, &set, nullptr);
  pid_t monitor = create(options);
  try {
    start(options.id);
  } catch (Error& e) {
    try {
      remove(options.id, true);
    } catch (const Error&) {
      // The start error is the one to report.
    }
    if (!detach) waitpid(monitor, nullptr, 0);
    throw;
  }
  if (detach) return 0;
  int status = waitForwardingSignals(monitor, set);
  if (!keep) remove(options.id, true);
  return status;
}

}  // namespace runvirt::backend

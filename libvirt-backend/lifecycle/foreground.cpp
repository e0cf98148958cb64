#include "lifecycle/foreground.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

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
      if (read(signals.get(), &info, sizeof info) == sizeof info)
        ::kill(monitor, static_cast<int>(info.ssi_signo));
    }
    if (fds[0].revents) break;
  }
  int status = 0;
  while (waitpid(monitor, &status, 0) < 0) {
    if (errno != EINTR) throwErrno("wait for the container's monitor");
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace runvirt::backend

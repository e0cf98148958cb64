#include "common/signal_sets.hpp"
#include "monitor/exec_monitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control/channel.hpp"
#include "cgroups/host_cgroup.hpp"
#include "monitor/process_exit.hpp"
#include "monitor/workload_stdio.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

namespace {

void report(UniqueFd& fd, const control::Reply& outcome) {
  control::sendIfConnected(fd.get(), outcome);
  fd.reset();
}

void releaseStdio() {
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  for (int fd = 0; fd <= 2 && null; ++fd) dup2(null.get(), fd);
}

// Relays signals and resizes until the monitor reports the exit (or goes away).
ExitStatus relayUntilExit(int connection, int signals, const WorkloadStdio& stdio) {
  for (;;) {
    pollfd fds[2] = {{connection, POLLIN, 0}, {signals, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throwErrno("poll");
    }
    if (fds[1].revents) {
      signalfd_siginfo info{};
      while (read(signals, &info, sizeof info) == sizeof info) {
        int signal = static_cast<int>(info.ssi_signo);
        try {
          if (signal != SIGWINCH) {
            control::send(connection, control::Signal{signal});
          } else if (auto size = stdio.currentSize()) {
            control::send(connection, control::Resize{size->rows, size->cols});
          }
        } catch (const Error&) {
          // The monitor is gone; the end of file below says so.
        }
      }
    }
    if (fds[0].revents) {
      auto message = control::receiveReply(connection);
      if (!message) return {0, SIGKILL};  // the container (and its monitor) went away
      if (auto* exited = std::get_if<control::Exited>(&*message))
        return {exited->code, exited->signal};
    }
  }
}

}  // namespace

void runExecMonitor(ExecMonitorOptions o) {
  UniqueFd reportFd(o.reportFd);
  setsid();
  signal(SIGPIPE, SIG_IGN);
  // What the shim (or a person) sends the exec's pid is meant for the exec'd process.
  sigset_t set = execMonitorSignals();
  sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd signals(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  ExitStatus status{0, SIGKILL};
  try {
    if (!signals) throwErrno("signalfd");
    addToContainerCgroup(o.vmDir, getpid());
    WorkloadStdio stdio = setupWorkloadStdio(o.process.terminal, o.consoleSocket);
    if (auto size = stdio.currentSize()) {
      o.process.rows = size->rows;
      o.process.cols = size->cols;
    }
    std::vector<int> fds =
        o.process.terminal ? std::vector<int>{stdio.in} : std::vector<int>{0, 1, 2};
    UniqueFd connection = control::connect(o.controlSocket);
    control::send(connection.get(), control::Exec{o.process}, fds);
    auto reply = control::receiveReply(connection.get());
    if (!reply) throw Error("cannot exec in a stopped container");
    if (auto* failed = std::get_if<control::Failed>(&*reply)) throw Error(failed->error);
    if (!std::holds_alternative<control::ExecStarted>(*reply)) {
      throw Error("unexpected " + quote(control::typeName(*reply)) + " reply to exec");
    }
    // The container's monitor relays the stdio now; holding the shim's pipes would delay its EOF.
    if (!o.process.terminal) releaseStdio();
    report(reportFd, control::Done{});
    status = relayUntilExit(connection.get(), signals.get(), stdio);
  } catch (const std::exception& e) {
    if (reportFd) {
      report(reportFd, control::Failed{e.what()});
      _exit(1);
    }
  }
  exitLike(status);
}

}  // namespace runvirt::backend

#include "common/signal_sets.hpp"

#include <initializer_list>

namespace runvirt::backend {

namespace {

sigset_t setOf(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  return set;
}

// The standard signals (1-31) but `leftOut`.
sigset_t standardSignalsBut(std::initializer_list<int> leftOut) {
  sigset_t set;
  sigemptyset(&set);
  for (int s = 1; s < 32; ++s) sigaddset(&set, s);
  for (int s : leftOut) sigdelset(&set, s);
  return set;
}

}  // namespace

sigset_t monitorSignals() {
  return standardSignalsBut({SIGKILL, SIGSTOP, SIGCHLD, SIGPIPE, SIGBUS, SIGSEGV, SIGABRT, SIGILL,
                             SIGFPE, SIGTRAP, SIGSYS, SIGTSTP, SIGTTIN, SIGTTOU});
}

sigset_t execMonitorSignals() {
  return standardSignalsBut({SIGKILL, SIGSTOP, SIGCHLD, SIGPIPE, SIGBUS, SIGSEGV, SIGABRT, SIGILL,
                             SIGFPE, SIGTRAP, SIGSYS});
}

sigset_t foregroundSignals() {
  return setOf({SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT});
}

}  // namespace runvirt::backend

#include "monitor/process_exit.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/wait_status.hpp"

namespace runvirt::backend {

namespace {

[[noreturn]] void dieOf(int signal) {
  rlimit noCore{0, 0};
  setrlimit(RLIMIT_CORE, &noCore);
  ::signal(signal, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signal);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(signal);
  _exit(128 + signal);  // should raising it not end us (32 and 33 are glibc's own)
}

}  // namespace

void exitLike(const ExitStatus& status) {
  // Checked where statuses come in (agent_client, control messages); whatever slips through
  // must still end us, never stop us (SIGSTOP) or leave us running (SIGCHLD).
  if (!exitStatusProblem(status.code, status.signal).empty()) dieOf(SIGKILL);
  if (status.signal > 0) dieOf(status.signal);
  _exit(status.code);
}

}  // namespace runvirt::backend

#include "monitor/process_exit.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

namespace runvirt::backend {

void exitLike(const ExitStatus& status) {
  if (status.signal > 0) {
    rlimit noCore{0, 0};
    setrlimit(RLIMIT_CORE, &noCore);
    signal(status.signal, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, status.signal);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(status.signal);
    _exit(128 + status.signal);  // a signal whose default is not to die (e.g. SIGCHLD)
  }
  _exit(status.code & 0xff);
}

}  // namespace runvirt::backend

#include "child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

#include "log.hpp"
#include "sync_channel.hpp"

namespace runvirt::agent {

namespace {

constexpr int kChildSyncFd = 3;
constexpr int kChildLogFd = 4;

void resetSignals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  }
}

}  // namespace

int detachFromAgent(int syncFd) {
  resetSignals();
  // Until execve the child holds the agent's memory image and its channel to the agent:
  // processes of the container must not ptrace it or read its /proc files (runc does the
  // same). execve makes an ordinary program dumpable again.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Move the two kept descriptors out of the way first: one may already sit on 3 or 4.
  int sync = fcntl(syncFd, F_DUPFD_CLOEXEC, 10);
  int logFd = fcntl(log::outputFd(), F_DUPFD_CLOEXEC, 10);
  if (sync < 0) _exit(1);  // nothing else can report it
  dup3(sync, kChildSyncFd, O_CLOEXEC);
  if (logFd >= 0) dup3(logFd, kChildLogFd, O_CLOEXEC);
  close_range(kChildLogFd + 1, ~0U, 0);
  log::configure(logFd >= 0 ? kChildLogFd : -1, log::debugEnabled());
  return kChildSyncFd;
}

void failChild(int syncFd, const std::string& message, int code) {
  try {
    sendSync(syncFd, SyncKind::Error, message);
  } catch (...) {
    // The agent sees end of file without Ready and reports a generic failure.
  }
  _exit(code);
}

int execFailureCode(int errnum) {
  if (errnum == ENOENT) return 127;
  if (errnum == EACCES) return 126;
  return 1;
}

}  // namespace runvirt::agent

#include "monitor/workload_stdio.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

// The shim waits for its pipes to close; a monitor using a pty must not hold them.
void releaseInheritedStdio() {
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) throwErrno("open /dev/null");
  for (int fd = 0; fd <= 2; ++fd) {
    if (dup2(null.get(), fd) < 0) throwErrno("redirect fd " + std::to_string(fd));
  }
}

}  // namespace

std::optional<WindowSize> WorkloadStdio::currentSize() const {
  if (sizeSource < 0) return std::nullopt;
  return windowSize(sizeSource);
}

WorkloadStdio setupWorkloadStdio(bool terminal, const std::string& consoleSocket) {
  WorkloadStdio s;
  if (!terminal) return s;
  s.terminal = true;
  s.err = -1;
  if (!consoleSocket.empty()) {
    s.pty = openHostPty();
    sendConsoleMaster(consoleSocket, s.pty.master.get(), s.pty.slaveName);
    s.pty.master.reset();
    becomeControllingTerminal(s.pty.slave.get());
    // The guest's pty does the line discipline; the host pty only carries bytes.
    s.raw = RawMode(s.pty.slave.get());
    releaseInheritedStdio();
    s.in = s.out = s.sizeSource = s.pty.slave.get();
    return s;
  }
  if (isatty(0)) {
    s.raw = RawMode(0);
    s.sizeSource = 0;
  } else if (isatty(1)) {
    s.sizeSource = 1;
  }
  return s;
}

}  // namespace runvirt::backend

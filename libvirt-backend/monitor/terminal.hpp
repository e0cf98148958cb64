// The monitor's end of a container terminal. With --console-socket (Docker -t) the monitor
// makes a host pty, sends the master to the socket and keeps the slave as its controlling
// terminal, so the caller's resizes of the master raise SIGWINCH in the monitor.
#pragma once

#include <termios.h>

#include <optional>
#include <string>

#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

struct WindowSize {
  unsigned short rows = 0;
  unsigned short cols = 0;
};

struct HostPty {
  UniqueFd master;
  UniqueFd slave;
  std::string slaveName;
};

HostPty openHostPty();

// Sends `master` over the unix socket at `path` in one SCM_RIGHTS message (runc's protocol:
// the message data is the pty's name).
void sendConsoleMaster(const std::string& path, int master, const std::string& name);

// Makes `fd` the calling session leader's controlling terminal.
void becomeControllingTerminal(int fd);

std::optional<WindowSize> windowSize(int fd);

// Puts a terminal in raw mode and restores it when destroyed (or on restore()).
class RawMode {
 public:
  RawMode() = default;
  explicit RawMode(int fd);
  RawMode(RawMode&& other) noexcept;
  RawMode& operator=(RawMode&& other) noexcept;
  ~RawMode() { restore(); }
  void restore();

 private:
  int fd_ = -1;
  termios saved_{};
};

}  // namespace runvirt::backend

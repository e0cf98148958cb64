// Where the monitor takes the workload's input from and puts its output: the inherited
// fds 0/1/2 (the shim's pipes), or a host pty for a terminal.
#pragma once

#include <optional>
#include <string>

#include "monitor/terminal.hpp"

namespace runvirt::backend {

struct WorkloadStdio {
  int in = 0;
  int out = 1;
  int err = 2;  // -1 with a terminal: the pty carries both streams
  bool terminal = false;
  int sizeSource = -1;  // read the window size here on SIGWINCH (-1: none)
  HostPty pty;          // console-socket mode keeps the slave here
  RawMode raw;

  std::optional<WindowSize> currentSize() const;
};

// Without a terminal: fds 0/1/2 as inherited. With one and a console socket: a host pty whose
// master goes to the socket (fds 0/1/2 are released). With one and no socket (`runvirt run -t`
// in a shell): the caller's own terminal, in raw mode while the container runs.
WorkloadStdio setupWorkloadStdio(bool terminal, const std::string& consoleSocket);

}  // namespace runvirt::backend

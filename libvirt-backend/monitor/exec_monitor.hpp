// The exec monitor: the host process `runvirt exec` leaves behind for one exec'd process (the
// pid in --pid-file). It hands its stdio (or a pty) to the container's monitor, which relays
// it, forwards the signals and resizes it receives, and exits with the process's status.
#pragma once

#include <string>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::backend {

struct ExecMonitorOptions {
  std::string controlSocket;  // the container monitor's
  std::string vmDir;          // the exec monitor joins the container's host cgroup
  agent::ProcessSpec process;
  std::string consoleSocket;
  int reportFd = -1;  // control::reportChannel(): `exec` waits there for done or failed
};

[[noreturn]] void runExecMonitor(ExecMonitorOptions options);

}  // namespace runvirt::backend

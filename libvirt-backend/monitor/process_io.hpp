// The host side of one guest process's stdio, as the monitor relays it: where its input comes
// from, where its output goes, and (for exec'd processes) the exec monitor's connection.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runvirt/agent/protocol.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

struct ExitStatus {
  int code = 0;
  int signal = 0;  // > 0: the process was killed by this signal
};

// Bytes waiting for a blocking fd we may share with others (a pipe or tty of our caller, so we
// never set O_NONBLOCK on it): written in chunks of at most PIPE_BUF after POLLOUT.
struct OutputSink {
  int fd = -1;
  std::string pending;
  bool broken = false;

  void push(std::string_view bytes);
  void writeSome();
  bool wantsWrite() const { return fd >= 0 && !broken && !pending.empty(); }
};

struct ProcessIo {
  agent::ProcessId id = agent::kInitProcess;
  int in = -1;  // stdin source, -1 when none
  bool inputOpen = true;
  bool terminal = false;
  OutputSink out;
  OutputSink err;               // with a terminal: the same fd as `out`
  std::vector<UniqueFd> owned;  // fds an exec monitor passed us
  UniqueFd session;             // exec: the exec monitor's control connection
  std::optional<ExitStatus> exit;
  double drainDeadline = 0;

  bool outputDrained() const { return !out.wantsWrite() && !err.wantsWrite(); }
};

}  // namespace runvirt::backend

// The monitor's event loop, from "created" to the workload's exit: one poll over the agent
// channel, the workload's stdio, forwarded signals and the control socket.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "runvirt/backend/state_store.hpp"
#include "runvirt/backend/vm_session.hpp"
#include "runvirt/backend/workload_stdio.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

struct ExitStatus {
  int code = 0;
  int signal = 0;  // > 0: the workload was killed by this signal
};

// Bytes waiting for a blocking fd we do not own (a pipe or tty shared with our caller, so we
// never set O_NONBLOCK on it): written in chunks of at most PIPE_BUF after POLLOUT.
struct OutputSink {
  int fd = -1;
  std::string pending;
  bool broken = false;

  void push(std::string_view bytes);
  void writeSome();
  bool wantsWrite() const { return fd >= 0 && !broken && !pending.empty(); }
};

class MonitorLoop {
 public:
  MonitorLoop(const StateStore& store, std::string id, VmSession& session, WorkloadStdio& stdio,
              UniqueFd controlListener, UniqueFd signals);
  ExitStatus run();

 private:
  enum class Phase { Created, Running, Exited };

  void handleAgent();
  void handleAgentEvent(AgentEvent event);
  void handleStdin();
  void handleSignals();
  void handleControlConnection();
  nlohmann::json handleRequest(const nlohmann::json& request);
  nlohmann::json start();
  nlohmann::json kill(int signal, bool all);
  void sendResize();
  void exitWith(ExitStatus status);
  int pollTimeoutMs() const;
  bool outputDrained() const;

  const StateStore& store_;
  std::string id_;
  VmSession& session_;
  AgentClient& agent_;
  WorkloadStdio& stdio_;
  UniqueFd listener_;
  UniqueFd signals_;
  OutputSink out_;
  OutputSink err_;
  Phase phase_ = Phase::Created;
  bool stdinOpen_ = true;
  ExitStatus status_;
  double killDeadline_ = 0;   // SIGKILL sent: destroy the VM if the workload is not gone by then
  double drainDeadline_ = 0;  // exited: stop waiting for slow readers of our output
};

}  // namespace runvirt::backend

// The monitor's event loop, from "created" to the workload's exit: one poll over the agent
// channel, the stdio of the container's processes, forwarded signals and the control socket
// (start, kill, ps, and exec sessions that stay open until their process exits).
#pragma once

#include <poll.h>

#include <functional>
#include <map>
#include <string>

#include "control/channel.hpp"
#include "monitor/network_follower.hpp"
#include "monitor/process_io.hpp"
#include "state/state_store.hpp"
#include "monitor/vm_session.hpp"
#include "monitor/workload_stdio.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

// How long the loop waits for others. The defaults are the monitor's; unit tests shorten them.
struct MonitorLoopTiming {
  double killGraceSeconds =
      3;  // after SIGKILL, for the guest to report the exit; then the VM is destroyed
  double drainSeconds = 10;           // after an exit, for slow readers of the process's output
  double requestTimeoutSeconds = 30;  // for the agent to answer start_container and exec_process
  double controlReceiveSeconds = 5;   // for a control client to send its request after connecting
};

class MonitorLoop {
 public:
  MonitorLoop(const StateStore& store, std::string id, VmSession& session, WorkloadStdio& stdio,
              UniqueFd controlListener, UniqueFd signals, MonitorLoopTiming timing = {});
  // Follow the container's network namespace while the container lives (network_follower.hpp).
  void followNetwork(NetworkFollower& network) { network_ = &network; }
  ExitStatus run();

 private:
  enum class Phase { Created, Running, Exited };
  using Handler = std::function<void()>;

  void addPollFds(std::vector<pollfd>& fds, std::vector<Handler>& handlers);
  void handleAgent();
  void handleAgentEvents();
  void handleAgentEvent(AgentEvent event);
  void handleInput(ProcessIo& io);
  void handleSignals();
  void handleFileSystemLost();
  void handleControlConnection();
  control::Reply handleRequest(control::ReceivedRequest& received, UniqueFd& connection);
  control::Reply start();
  control::Reply kill(int signal, bool all);
  control::Reply exec(agent::ProcessSpec spec, std::vector<UniqueFd> fds, UniqueFd& connection);
  void handleSessionMessage(ProcessIo& io);
  std::vector<int> hostPids() const;
  void finishExecs();
  void sendResize(const ProcessIo& io, std::optional<WindowSize> size);
  void exitWith(ExitStatus status);
  int pollTimeoutMs() const;

  const StateStore& store_;
  std::string id_;
  VmSession& session_;
  AgentClient& agent_;
  WorkloadStdio& stdio_;
  UniqueFd listener_;
  UniqueFd signals_;
  MonitorLoopTiming timing_;
  NetworkFollower* network_ = nullptr;
  std::map<agent::ProcessId, ProcessIo> processes_;  // 0: the container's init
  agent::ProcessId nextExecId_ = 1;
  Phase phase_ = Phase::Created;
  ExitStatus status_;
  double killDeadline_ = 0;   // SIGKILL sent: destroy the VM if the workload is not gone by then
  double drainDeadline_ = 0;  // exited: stop waiting for slow readers of our output
};

}  // namespace runvirt::backend

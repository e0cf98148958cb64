// The agent's request loop: one thread, one poll(2) over the host port, a signalfd for
// SIGCHLD, the sync channels of children being set up, and every process's stdio.
// A request that fails is answered with its error; nothing the host sends can stop the loop.
#pragma once

#include <memory>

#include "channel.hpp"
#include "containers.hpp"
#include "dns_relay.hpp"
#include "process_table.hpp"
#include "runvirt/agent/protocol.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

class Server {
 public:
  // Blocks SIGCHLD (it is read from a signalfd); call before any child exists.
  explicit Server(Channel& channel);

  // Serves until a shutdown request reboots the VM.
  [[noreturn]] void run();

 private:
  void pollOnce();
  void onPortReadable();
  void handleDecodedFrames();
  void onChildExited();
  void handleFrame(const Frame& frame);
  void handleMessage(const nlohmann::json& json);
  void handleRequest(const Request& request);
  void respond(const Response& response);

  // Handlers answered at once; create/start/exec answer through ContainerManager.
  Response signalProcess(std::uint64_t id, const SignalProcess& request);
  Response resizeTerminal(std::uint64_t id, const ResizeTerminal& request);
  Response listProcesses(std::uint64_t id, const ListProcesses& request);
  Response setUpNetwork(std::uint64_t id, const ConfigureNetwork& request);
  [[noreturn]] void shutdown(std::uint64_t id);

  Channel& channel_;
  UniqueFd childSignals_;
  ProcessTable processes_;
  ContainerManager containers_;
  Clock::time_point portRetryAt_{};
  std::unique_ptr<DnsRelay> dns_;  // once configure_network asked for it
};

}  // namespace runvirt::agent

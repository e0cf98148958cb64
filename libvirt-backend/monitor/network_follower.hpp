// Keeps a running VM's network in line with the container's namespace (container_network.hpp):
// the monitor loop polls the namespace's netlink events, and a while after the last one (they
// come in bursts) plugs or unplugs NICs and tells the agent the guest's whole network.
#pragma once

#include "monitor/agent_client.hpp"
#include "monitor/vm_session.hpp"
#include "network/container_network.hpp"
#include "network/netlink_watch.hpp"

namespace runvirt::backend {

class NetworkFollower {
 public:
  NetworkFollower(ContainerNetwork& network, NetlinkWatch& watch, VmSession& session);

  int fd() const { return watch_.fd(); }
  // fd() is readable: the namespace changed; followed once it has been quiet for a moment.
  void onEvents();
  // When the pending change is due (monotonic seconds); 0 when nothing is pending.
  double deadline() const { return deadline_; }
  // Follows a pending change now (the loop at deadline(), `start` before the workload runs).
  // A failure (libvirt away, the guest refusing) is logged and tried again a little later.
  void sync();

 private:
  ContainerNetwork& network_;
  NetlinkWatch& watch_;
  VmSession& session_;
  double deadline_ = 0;
};

}  // namespace runvirt::backend

// The container's network, carried into its VM the Kata "tcfilter" way: for each interface
// Docker's hook put into the container's network namespace (a veth with IP, MAC, routes), a
// tap QEMU uses as the guest NIC, joined to the veth by tc ingress + mirred redirect both
// ways. The guest NIC gets the veth's MAC, and the agent gives it the same name, MTU,
// addresses and routes. The veth keeps its configuration; the namespace stays Docker's.
//
// Order, all in the monitor (which lives in the container's namespace):
//   discover() after the prestart/createRuntime hooks; record taps() in the state (so
//   `delete` can find them); createTaps() in the host namespace; start the domain with
//   vmInterfaces() (libvirt opens the taps by name); attach(); guestConfig() to the agent.
#pragma once

#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"
#include "network/network_plan.hpp"
#include "vm/vm_config.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

class ContainerNetwork {
 public:
  // Reads the calling thread's network namespace. No interface (`--network none`): empty().
  // `hostNamespace`: where libvirtd looks for taps (openCurrentNetworkNamespace before the
  // monitor entered the container's).
  static ContainerNetwork discover(UniqueFd hostNamespace);

  bool empty() const { return plan_.interfaces.empty(); }
  // One new tap name per interface, chosen by discover().
  const std::vector<std::string>& taps() const { return taps_; }

  // Creates the taps in the host's network namespace, where libvirtd opens them.
  void createTaps();
  // What the domain XML needs: each tap with the MAC of its interface.
  std::vector<NetworkInterface> vmInterfaces() const;
  // With Docker's embedded DNS server (dns_relay.hpp): the namespace on the host keeps the
  // traffic that server needs for names it forwards (ARP, a reserved port band). Before attach().
  void keepHostDnsTraffic(bool keep) { keepHostDnsTraffic_ = keep; }
  // Once QEMU holds the taps: moves each into the calling thread's namespace, brings it up
  // and joins it to its interface with tc. Call from the container's namespace.
  void attach();
  // The request that makes the guest's network the same as the namespace's.
  agent::ConfigureNetwork guestConfig(bool dnsRelay) const;

  // Undoes what createTaps() and attach() did (taps deleted in the host or the container
  // namespace, the interfaces' ingress qdiscs removed). For a failed set-up, and at exit
  // when the namespace outlives the container (a joined one). Logs what it cannot undo.
  void undo() noexcept;

 private:
  UniqueFd hostNamespace_;
  NetworkPlan plan_;
  std::vector<std::string> taps_;
  std::size_t created_ = 0;   // taps_[0, created_) exist
  std::size_t attached_ = 0;  // taps_[0, attached_) are in the container's namespace
  bool keepHostDnsTraffic_ = false;
};

}  // namespace runvirt::backend

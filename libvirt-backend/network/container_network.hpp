// The container's network, carried into its VM the Kata "tcfilter" way: for each interface in
// the container's network namespace (a veth Docker configured, with IP, MAC, routes), a tap that
// QEMU uses as the guest NIC, joined to the interface by tc ingress + mirred redirect both ways.
// The guest NIC gets the interface's MAC, and the agent gives it the same name, MTU, addresses
// and routes. The interface keeps its configuration; the namespace stays Docker's.
//
// The namespace is followed for the container's whole life, not read once: Docker 28 moves its
// veth in after `create`, and `docker network connect`/`disconnect` add and remove interfaces
// while the container runs. The monitor (which lives in the namespace) calls:
//   prepareNics() for what the namespace holds at create (the domain XML takes those NICs),
//   attachPrepared() once QEMU holds their taps, guestNetwork() for the agent;
//   follow() whenever the namespace changed (netlink_watch.hpp): NICs are plugged into the
//   running VM for new interfaces and unplugged for gone ones;
//   undo() on a failed set-up, and at exit when the namespace outlives the container.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "network/network_plan.hpp"
#include "runvirt/agent/protocol.hpp"
#include "runvirt/unique_fd.hpp"
#include "vm/hypervisor.hpp"
#include "vm/vm_config.hpp"

namespace runvirt::backend {

class ContainerNetwork {
 public:
  // Call in the container's namespace. `hostNamespace`: where libvirtd opens taps by name (the
  // monitor's namespace before it entered the container's). `vmDir`: where the taps are recorded
  // before they exist (tap.hpp). `dnsRelay`: Docker's embedded DNS server is relayed
  // (dns_relay.hpp), so each interface keeps the traffic that server needs.
  ContainerNetwork(UniqueFd hostNamespace, std::string vmDir, bool dnsRelay);

  // Reads the namespace and makes a tap (in the host's namespace) for each interface that has no
  // NIC yet; returns those NICs. None for `--network none` (loopback only).
  std::vector<NetworkInterface> prepareNics();
  // Once QEMU holds the prepared taps: each moves into the namespace, is brought up and joined
  // to its interface with tc.
  void attachPrepared();
  // What the guest's network must be (the whole of it), as of the last read.
  agent::ConfigureNetwork guestNetwork() const;

  // Brings the running VM in line with the namespace: a NIC plugged in (through `hypervisor`)
  // for each new interface, unplugged for each interface gone. Returns true when the guest's
  // network changed (send guestNetwork() then), false when the namespace is as last seen.
  // `hypervisor` is asked for only when a NIC must be plugged or unplugged.
  bool follow(const std::function<Hypervisor&()>& hypervisor, const std::string& domainName);
  // The taps of interfaces that are gone, once the guest was told (after follow()).
  void removeUnplugged() noexcept;

  // Undoes what was made: taps deleted in the host or the container's namespace, the
  // interfaces' ingress qdiscs removed. Logs what it cannot undo.
  void undo() noexcept;

 private:
  struct Nic {
    agent::Interface link;  // the container's interface this NIC stands for
    std::string tap;
    bool attached = false;  // the tap is in the container's namespace, joined to the link
  };

  NetworkPlan readNamespace() const;
  std::vector<std::string> taps() const;
  void createTap(Nic& nic);
  void attach(Nic& nic);

  UniqueFd hostNamespace_;
  std::string vmDir_;
  bool dnsRelay_ = false;
  std::vector<Nic> nics_;
  std::vector<Nic> unplugged_;  // waiting for removeUnplugged()
  NetworkPlan plan_;            // the namespace as last read
};

}  // namespace runvirt::backend

// Brings up one container's VM: share, domain, agent handshake, container prepared in the
// guest (not started). Owned by the monitor for the container's whole life.
//
// The domain is tied to no libvirt connection (hypervisor.hpp says why): the monitor talks to
// libvirt only to start the VM and to end it, and between the two watches it through the agent
// channel (end of file when QEMU dies). So libvirtd may restart under a running container.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "monitor/agent_client.hpp"
#include "vm/hypervisor.hpp"
#include "common/runtime_config.hpp"
#include "state/state_store.hpp"
#include "monitor/terminal.hpp"
#include "vm/vm_config.hpp"
#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

struct VmSession {
  std::string domainName;
  std::string libvirtUri;
  HypervisorFactory connectHypervisor;
  std::optional<AgentClient> agent;
  // pidfds of the virtiofsd processes serving the VM's share: without them the container's
  // files are gone, and the VM must end (the guest would wait on its file system forever).
  std::vector<UniqueFd> virtiofsd;

  // Ends the VM (destroy_vm.hpp: through libvirt, or by killing QEMU when libvirt is away).
  // Errors are logged: the caller is on its way out either way.
  void destroy() noexcept;
};

// The container's network as its VM needs it (container_network.hpp). Default: no NIC.
struct VmNetwork {
  std::vector<NetworkInterface> interfaces;  // taps in the host's namespace, opened by libvirt
  bool dnsRelay = false;                     // add the DNS port (dns_relay.hpp)
  // Runs once QEMU holds the taps, before the guest can use them.
  std::function<void()> afterDomainStart;
  // Sent to the agent right after the handshake, before the container is created.
  std::optional<agent::ConfigureNetwork> guestConfig;
};

struct VmStartRequest {
  const ContainerRecord& record;
  const oci::Spec& spec;
  const RuntimeConfig& config;
  std::string stateRoot;                   // --root, recorded in the domain metadata
  std::optional<WindowSize> terminalSize;  // overrides process.consoleSize
  VmNetwork network;
  // The connection the domain is started on: opened by the caller before it entered the
  // container's network namespace (a libvirt URI over TCP must resolve on the host).
  std::unique_ptr<Hypervisor> hypervisor;
  // Opens the later connections to config.libvirtUri (to destroy the VM).
  HypervisorFactory connectHypervisor;
};

// Throws Error naming the failed step. Partial state (share mounts, domain) is cleaned by the
// caller's teardown, which `delete` shares.
VmSession startContainerVm(VmStartRequest request);

}  // namespace runvirt::backend

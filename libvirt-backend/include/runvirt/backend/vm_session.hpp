// Brings up one container's VM: share, domain, agent handshake, container prepared in the
// guest (not started). Owned by the monitor for the container's whole life.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "runvirt/backend/agent_client.hpp"
#include "runvirt/backend/hypervisor.hpp"
#include "runvirt/backend/runtime_config.hpp"
#include "runvirt/backend/state_store.hpp"
#include "runvirt/backend/terminal.hpp"
#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

struct VmSession {
  // The libvirt connection the domain is tied to: closing it destroys the VM.
  std::unique_ptr<Hypervisor> hypervisor;
  std::optional<AgentClient> agent;
  std::string domainName;
};

struct VmStartRequest {
  const ContainerRecord& record;
  const oci::Spec& spec;
  const RuntimeConfig& config;
  std::string stateRoot;  // --root, recorded in the domain metadata
  std::optional<WindowSize> terminalSize;  // overrides process.consoleSize
};

// Throws Error naming the failed step. Partial state (share mounts, domain) is cleaned by the
// caller's teardown, which `delete` shares.
VmSession startContainerVm(const VmStartRequest& request);

}  // namespace runvirt::backend

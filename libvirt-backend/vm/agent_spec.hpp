// oci::Spec -> the agent's ContainerSpec/ProcessSpec: names become numbers (capabilities,
// rlimits), the seccomp profile becomes BPF, binds become share-relative. Pure.
#pragma once

#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"
#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

agent::ProcessSpec toAgentProcess(const oci::Process& process, const std::string& seccompBpf);

agent::ContainerSpec toAgentContainer(const oci::Spec& spec, const std::string& id,
                                      std::vector<agent::Mount> mounts,
                                      const std::string& seccompBpf);

}  // namespace runvirt::backend

// OCI hooks run on the host with the container state on stdin (runtime-spec
// config.md#posix-platform-hooks).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runvirt/oci/spec.hpp"
#include "runvirt/oci/state.hpp"

namespace runvirt::backend {

// Runs each hook in order; throws Error("<kind> hook #<n>: ...") on the first failure, with
// whatever the hook printed. Hook output never reaches the container's stdio.
void runHooks(const std::vector<oci::Hook>& hooks, const std::string& kind,
              const oci::State& state);

// Hooks kept in state.json as the spec's JSON, for poststart and poststop.
std::vector<oci::Hook> hooksFromJson(const nlohmann::json& hooks, const std::string& kind);
nlohmann::json hooksToJson(const oci::Hooks& hooks);

}  // namespace runvirt::backend

// Shorthands for the agent's responses.
#pragma once

#include <optional>
#include <string>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::agent {

inline Response okReply(std::uint64_t id, std::optional<int> pid = std::nullopt) {
  return {id, "", pid, {}};
}

inline Response errorReply(std::uint64_t id, std::string error) {
  return {id, std::move(error), std::nullopt, {}};
}

}  // namespace runvirt::agent

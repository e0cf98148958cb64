// CLI <-> monitor: one SOCK_SEQPACKET message per request and per reply, JSON, on
// <vm dir>/control.sock (a root-only directory). Replies carry `error` on failure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "runvirt/unique_fd.hpp"

namespace runvirt::backend::control {

// Sends `request` and waits for the reply. Throws Error(NotRunning) when nobody listens,
// Error(message) when the reply carries an error.
nlohmann::json call(const std::string& socketPath, const nlohmann::json& request, double timeoutSeconds);

// Server side.
UniqueFd listen(const std::string& socketPath);
// Reads one request from an accepted connection (nullopt when the peer sent nothing usable).
std::optional<nlohmann::json> receive(int connection);
void reply(int connection, const nlohmann::json& reply);

}  // namespace runvirt::backend::control

// CLI <-> monitor: SOCK_SEQPACKET messages of JSON on <vm dir>/control.sock (a root-only
// directory). A request gets one reply; replies carry `error` on failure. An `exec` keeps its
// connection open for the exec'd process's life: the exec monitor passes its stdio with the
// request (SCM_RIGHTS) and later sends `signal`/`resize`; the monitor answers `exited`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runvirt/unique_fd.hpp"

namespace runvirt::backend::control {

struct Message {
  nlohmann::json json;
  std::vector<UniqueFd> fds;  // passed with the message, if any
};

// Sends `request` and waits for the reply. Throws Error(NotRunning) when nobody listens,
// Error(message) when the reply carries an error.
nlohmann::json call(const std::string& socketPath, const nlohmann::json& request, double timeoutSeconds);

// A connection that stays open (exec sessions). Throws Error(NotRunning) when nobody listens.
UniqueFd connect(const std::string& socketPath);

// Server side.
UniqueFd listen(const std::string& socketPath);

// One message; nullopt when the peer closed the connection or sent nothing usable.
std::optional<Message> receive(int connection);
// Sends one message with optional fds. Errors are thrown; reply() swallows them (the peer left).
void send(int connection, const nlohmann::json& message, const std::vector<int>& fds = {});
void reply(int connection, const nlohmann::json& reply);

}  // namespace runvirt::backend::control

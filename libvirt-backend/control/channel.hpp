// The transport of the control protocol (messages.hpp): SOCK_SEQPACKET unix sockets, one
// message per packet, file descriptors passed with SCM_RIGHTS. A container's monitor listens on
// <vm dir>/control.sock (a root-only directory); set-up reports travel on a socketpair.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/messages.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend::control {

// A request and the fds that came with it.
struct ReceivedRequest {
  Request request;
  std::vector<UniqueFd> fds;
};

// Server side: a non-blocking listening socket, mode 0600.
UniqueFd listen(const std::string& socketPath);
// Throws Error(NotRunning, "container not running") when nobody listens.
UniqueFd connect(const std::string& socketPath);
// A connected pair for one set-up report (child -> parent); both ends close-on-exec.
std::pair<UniqueFd, UniqueFd> reportChannel();

// Blocking sends; throw Error when the peer is gone.
void send(int connection, const Request& request, const std::vector<int>& fds = {});
void send(int connection, const Reply& reply);
// A reply to a peer that may have left meanwhile: nothing to tell it then.
void sendIfConnected(int connection, const Reply& reply);

// std::nullopt when the peer closed the connection. Throws Error(InvalidArgument) for a
// packet that is not a valid message (too large, not JSON, another schema or version).
std::optional<ReceivedRequest> receiveRequest(int connection);
std::optional<Reply> receiveReply(int connection);

// Sends `request` to the monitor at `socketPath` and waits for its reply. A Failed reply is
// thrown as Error(its message); no monitor is Error(NotRunning); no answer within
// `timeoutSeconds` is Error(Timeout).
Reply call(const std::string& socketPath, const Request& request, double timeoutSeconds);

}  // namespace runvirt::backend::control

// One message with file descriptors attached (SCM_RIGHTS) over a SOCK_SEQPACKET socket, for host
// and guest alike, so that callers need not build or read control messages (cmsghdr) by hand.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runvirt/unique_fd.hpp"

namespace runvirt {

// One received message: its bytes and the descriptors that came with it (close-on-exec).
struct FdMessage {
  std::string bytes;
  std::vector<UniqueFd> fds;
};

// Sends `bytes` (not empty) as one message with `fds` attached (a SEQPACKET message is sent whole
// or not at all); retries on EINTR and raises no SIGPIPE. Throws Error("send: <strerror>").
void sendWithFds(int socket, std::string_view bytes, const std::vector<int>& fds = {});

// Receives one message of at most `maxBytes` bytes with at most `maxFds` descriptors; retries on
// EINTR. std::nullopt at end of file: the peer closed (SEQPACKET's 0-byte read) or reset the
// connection. A longer message or more descriptors throw Error (the rest of that message is lost);
// the descriptors that did arrive are closed then, never leaked.
std::optional<FdMessage> receiveWithFds(int socket, std::size_t maxBytes, std::size_t maxFds);

// receiveWithFds() without blocking: also std::nullopt when nothing is queued, with `wouldBlock`
// set.
std::optional<FdMessage> tryReceiveWithFds(int socket, std::size_t maxBytes, std::size_t maxFds,
                                           bool& wouldBlock);

}  // namespace runvirt

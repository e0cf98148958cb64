#include "sync_channel.hpp"

#include <sys/socket.h>

#include "runvirt/error.hpp"
#include "runvirt/fd_passing.hpp"

namespace runvirt::agent {

namespace {
constexpr std::size_t kMaxSyncText = 4000;
constexpr std::size_t kMaxSyncFds = 3;
}  // namespace

std::pair<UniqueFd, UniqueFd> makeSyncPair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    throwErrno("socketpair for a child's sync channel");
  }
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void sendSync(int fd, SyncKind kind, std::string_view text, const std::vector<int>& fds) {
  if (fds.size() > kMaxSyncFds) throw Error("too many fds for one sync message");
  std::string payload(1, char(kind));
  payload.append(text.substr(0, kMaxSyncText));
  withContext("sync channel", [&] { sendWithFds(fd, payload, fds); });
}

std::optional<SyncMessage> receiveSync(int fd, bool dontWait, bool* wouldBlock) {
  bool nothingQueued = false;
  std::optional<FdMessage> received = withContext("sync channel", [&] {
    return dontWait ? tryReceiveWithFds(fd, kMaxSyncText + 1, kMaxSyncFds, nothingQueued)
                    : receiveWithFds(fd, kMaxSyncText + 1, kMaxSyncFds);
  });
  if (wouldBlock) *wouldBlock = nothingQueued;
  if (!received) return std::nullopt;  // end of file: sendSync never sends an empty message
  SyncMessage message;
  message.kind = SyncKind(received->bytes[0]);
  message.text = received->bytes.substr(1);
  message.fds = std::move(received->fds);
  return message;
}

}  // namespace runvirt::agent

#include "sync_channel.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "runvirt/error.hpp"

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
  std::string payload(1, char(kind));
  payload.append(text.substr(0, kMaxSyncText));
  iovec iov{payload.data(), payload.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxSyncFds)] = {};
  if (!fds.empty()) {
    if (fds.size() > kMaxSyncFds) throw Error("too many fds for one sync message");
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t sent;
  do {
    sent = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) throwErrno("send on sync channel");
}

std::optional<SyncMessage> receiveSync(int fd, bool dontWait, bool* wouldBlock) {
  if (wouldBlock) *wouldBlock = false;
  char buffer[kMaxSyncText + 2];
  iovec iov{buffer, sizeof buffer};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxSyncFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | (dontWait ? MSG_DONTWAIT : 0));
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && dontWait) {
    if (wouldBlock) *wouldBlock = true;
    return std::nullopt;
  }
  if (n < 0 && errno == ECONNRESET) return std::nullopt;
  if (n < 0) throwErrno("receive on sync channel");
  SyncMessage message;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      message.fds.emplace_back(received);
    }
  }
  if (n == 0) return std::nullopt;  // SEQPACKET: 0 bytes is end of file (we never send empty)
  message.kind = SyncKind(buffer[0]);
  message.text.assign(buffer + 1, std::size_t(n) - 1);
  return message;
}

}  // namespace runvirt::agent

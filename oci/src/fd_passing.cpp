#include "runvirt/fd_passing.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "runvirt/error.hpp"

namespace runvirt {

namespace {

// Room for a control message carrying `count` descriptors, aligned for cmsghdr.
std::vector<cmsghdr> controlBuffer(std::size_t count) {
  return std::vector<cmsghdr>((CMSG_SPACE(sizeof(int) * count) + sizeof(cmsghdr) - 1) /
                              sizeof(cmsghdr));
}

std::optional<FdMessage> receive(int socket, std::size_t maxBytes, std::size_t maxFds,
                                 bool* wouldBlock) {
  if (wouldBlock) *wouldBlock = false;
  FdMessage message;
  message.bytes.resize(maxBytes);
  iovec iov{message.bytes.data(), message.bytes.size()};
  std::vector<cmsghdr> control = controlBuffer(maxFds);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (maxFds > 0) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * maxFds);
  }
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | (wouldBlock ? MSG_DONTWAIT : 0));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (wouldBlock && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      *wouldBlock = true;
      return std::nullopt;
    }
    if (errno == ECONNRESET) return std::nullopt;
    throwErrno("receive");
  }
  // Owned before anything can throw: the kernel already installed them in this process.
  if (msg.msg_controllen > 0) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        message.fds.emplace_back(fd);
      }
    }
  }
  if (msg.msg_flags & MSG_TRUNC) {
    throw Error("receive: message longer than " + std::to_string(maxBytes) + " bytes");
  }
  // The kernel's room is rounded up to 8 bytes (two fds where one was asked): counted as well.
  if ((msg.msg_flags & MSG_CTRUNC) || message.fds.size() > maxFds) {
    throw Error("receive: more than " + std::to_string(maxFds) + " file descriptors attached");
  }
  if (n == 0) return std::nullopt;
  message.bytes.resize(static_cast<std::size_t>(n));
  return message;
}

}  // namespace

void sendWithFds(int socket, std::string_view bytes, const std::vector<int>& fds) {
  if (bytes.empty()) throw Error("send: an empty message would be read as end of file");
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<cmsghdr> control = controlBuffer(fds.size());
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  while (::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) throwErrno("send");
  }
}

std::optional<FdMessage> receiveWithFds(int socket, std::size_t maxBytes, std::size_t maxFds) {
  return receive(socket, maxBytes, maxFds, nullptr);
}

std::optional<FdMessage> tryReceiveWithFds(int socket, std::size_t maxBytes, std::size_t maxFds,
                                           bool& wouldBlock) {
  return receive(socket, maxBytes, maxFds, &wouldBlock);
}

}  // namespace runvirt

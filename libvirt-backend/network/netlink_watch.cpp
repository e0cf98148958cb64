#include "network/netlink_watch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "runvirt/error.hpp"

namespace runvirt::backend {

NetlinkWatch::NetlinkWatch()
    : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE)) {
  if (!fd_) throwErrno("netlink socket");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups =
      RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0)
    throwErrno("bind netlink socket");
}

bool NetlinkWatch::drain() {
  bool changed = false;
  char buffer[16384];
  for (;;) {
    ssize_t n = recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      changed = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) {  // events were dropped: something changed unseen
      changed = true;
      continue;
    }
    return changed;  // EAGAIN: all read
  }
}

}  // namespace runvirt::backend

#include "runvirt/backend/network_namespace.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

void bringLoopbackUp() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throwErrno("socket");
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &req) < 0) throwErrno("read lo flags");
  req.ifr_flags |= IFF_UP;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &req) < 0) throwErrno("bring lo up");
}

}  // namespace

void enterNetworkNamespace(const std::string& path) {
  if (!path.empty()) {
    UniqueFd ns(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) throwErrno("open network namespace " + path);
    // PRIVILEGED: join the network namespace the spec names.
    if (setns(ns.get(), CLONE_NEWNET) < 0) throwErrno("join network namespace " + path);
    return;
  }
  // PRIVILEGED: the container's own network namespace, held by the monitor.
  if (unshare(CLONE_NEWNET) < 0) throwErrno("create network namespace");
  bringLoopbackUp();
}

}  // namespace runvirt::backend

#include "network/network_namespace.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "runvirt/error.hpp"
#include "common/log.hpp"

namespace runvirt::backend {

namespace {

constexpr const char* kHostNetworkingRefused =
    "host networking is not supported: the container runs in its own VM (use a bridge network)";

void bringLoopbackUp() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throwErrno("socket");
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &req) < 0) throwErrno("read lo flags");
  req.ifr_flags |= IFF_UP;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &req) < 0) throwErrno("bring lo up");
}

bool sameFile(const char* a, const std::string& b) {
  struct stat sa {
  }, sb{};
  if (stat(a, &sa) < 0 || stat(b.c_str(), &sb) < 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

UniqueFd openNamespace(const char* path) {
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) throwErrno(std::string("open network namespace ") + path);
  return fd;
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

void refuseHostNetworking(const oci::Spec& spec) {
  if (!spec.hasNamespace("network"))
    throw Error(kHostNetworkingRefused, ErrorKind::InvalidArgument);
  std::string path = spec.namespacePath("network");
  if (path.empty()) return;
  // The namespace `create` was called in is the host's (see openCurrentNetworkNamespace).
  if (sameFile("/proc/thread-self/ns/net", path) || sameFile("/proc/1/ns/net", path)) {
    throw Error(kHostNetworkingRefused, ErrorKind::InvalidArgument);
  }
}

UniqueFd openCurrentNetworkNamespace() { return openNamespace("/proc/thread-self/ns/net"); }

NetworkNamespaceScope::NetworkNamespaceScope(int namespaceFd)
    : previous_(openCurrentNetworkNamespace()) {
  // PRIVILEGED: a short visit to another namespace (the host's, to create or move a tap).
  if (setns(namespaceFd, CLONE_NEWNET) < 0) throwErrno("enter network namespace");
}

NetworkNamespaceScope::~NetworkNamespaceScope() {
  if (setns(previous_.get(), CLONE_NEWNET) < 0) {
    log::error(std::string("cannot return to the container's network namespace: ") +
               std::strerror(errno));
    std::abort();
  }
}

}  // namespace runvirt::backend

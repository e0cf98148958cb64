// The container's network namespace lives on the host, in the monitor: Docker's hook finds
// it through /proc/<monitor pid>/ns/net and fills it with the container's veth.
#pragma once

#include <string>

#include "runvirt/oci/spec.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

// Joins `path` when given, else creates a new namespace with loopback up (as runc does).
void enterNetworkNamespace(const std::string& path);

// Throws Error("host networking is not supported: ...") when the spec has no network
// namespace or names the host's: the container runs in its own VM, which has its own network
// stack, so it cannot share the host's.
void refuseHostNetworking(const oci::Spec& spec);

// The calling thread's current network namespace. The monitor takes the host's this way before
// it enters the container's: the namespace its caller (Docker's shim) runs in, where the
// system libvirtd runs too. (/proc/1/ns/net would name init's even under `ip netns exec`, but
// opening it needs ptrace access to PID 1, which a confined host denies to root.)
UniqueFd openCurrentNetworkNamespace();

// Runs the calling thread in another network namespace for the object's lifetime (sockets
// opened and processes spawned meanwhile belong to it), then returns to the previous one.
class NetworkNamespaceScope {
 public:
  explicit NetworkNamespaceScope(int namespaceFd);
  ~NetworkNamespaceScope();  // failing to return is fatal: aborts rather than run astray
  NetworkNamespaceScope(const NetworkNamespaceScope&) = delete;
  NetworkNamespaceScope& operator=(const NetworkNamespaceScope&) = delete;

 private:
  UniqueFd previous_;
};

}  // namespace runvirt::backend

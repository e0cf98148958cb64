// The container's network namespace lives on the host, in the monitor: Docker's hook finds
// it through /proc/<monitor pid>/ns/net and fills it with the container's veth.
#pragma once

#include <string>

namespace runvirt::backend {

// Joins `path` when given, else creates a new namespace with loopback up (as runc does).
void enterNetworkNamespace(const std::string& path);

}  // namespace runvirt::backend

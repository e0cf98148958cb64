// configure_network: the guest's NICs become the container's interfaces as Docker set them
// up on the host. Each NIC is found by MAC (the host gave it the veth's), renamed, given the
// MTU and addresses, brought up; then the routes are added in the order given.
#pragma once

#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::agent {

// Throws Error naming the interface or route that could not be set up.
void configureNetwork(const ConfigureNetwork& request);

// Renames that turn `current[i]` into `wanted[i]` without ever taking a name still in use:
// every NIC to be renamed first gets a temporary name, then its final one. Pure.
struct Rename {
  std::string from;
  std::string to;
};
std::vector<Rename> planRenames(const std::vector<std::string>& current, const std::vector<std::string>& wanted);

}  // namespace runvirt::agent

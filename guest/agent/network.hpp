// configure_network: the guest's network becomes the one the request states, whatever it was
// before. The host sends the whole desired network each time it changes (at start, on Docker's
// `network connect` and `disconnect`, when Docker plugs its veth in after create), so every step
// converges and a repeated request changes nothing:
//   - each requested NIC (found by MAC) gets its name, MTU and exactly its addresses, and is up;
//   - the other virtio NICs (the host is unplugging them) go down, lose their addresses and have
//     their PCI hot-plug slot powered off, so that the unplug completes at once;
//   - then the agent's routes become exactly the requested ones.
// Loopback and every link the container made itself are never touched.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ip_address.hpp"
#include "nic_sysfs.hpp"
#include "route_netlink.hpp"
#include "runvirt/agent/protocol.hpp"

namespace runvirt::agent {

// Throws Error naming the interface or route that could not be set up. `sysfs`: for tests.
void configureNetwork(const ConfigureNetwork& request, const std::string& sysfs = kSysfs);

// A name the kernel takes for a link (its dev_valid_name): 1 to 15 characters, neither "." nor
// "..", no '/', ':' or white space. Pure.
bool isValidInterfaceName(std::string_view name);

// Renames that turn `current[i]` into `wanted[i]` without ever taking a name still in use:
// every NIC to be renamed first gets a temporary name ("rvnicN"), then its final one. A NIC
// `leaving` (not in the request) that holds a wanted name moves to a temporary name for good.
// Temporary names avoid every name given, `others` (the guest's other links) included. Pure.
struct Rename {
  std::string from;
  std::string to;
};
std::vector<Rename> planRenames(const std::vector<std::string>& current,
                                const std::vector<std::string>& wanted,
                                const std::vector<std::string>& leaving = {},
                                const std::vector<std::string>& others = {});

// What turns the addresses an interface has into exactly `wanted`. IPv6 link-local and loopback
// addresses are the kernel's and stay. Duplicates are added once. Pure.
struct AddressChanges {
  std::vector<IpPrefix> remove;
  std::vector<IpPrefix> add;
};
AddressChanges planAddressChanges(const std::vector<IpPrefix>& current,
                                  const std::vector<IpPrefix>& wanted);

// What makes the agent's routes exactly `wanted`. Of `current` (the main table's routes), only
// the agent's may go: unicast, RTPROT_BOOT, through one of runvirt's NICs (`nicIndexes`); the
// kernel's (an address's subnet) and those through the container's own links stay. Routes are
// the same when destination (host bits aside), gateway and device are. `add` holds the indexes
// into `wanted` of the missing routes, in their order (a route through a gateway needs the
// route to the gateway first). Pure.
struct RouteChanges {
  std::vector<RouteEntry> remove;
  std::vector<std::size_t> add;
};
RouteChanges planRouteChanges(const std::vector<RouteEntry>& current,
                              const std::vector<RouteEntry>& wanted,
                              const std::vector<int>& nicIndexes);

}  // namespace runvirt::agent

// What the guest's network must look like, read from the container's network namespace on
// the host (as `ip -json` prints it) after Docker's hook configured it. Pure: unit-tested on
// captured `ip` output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::backend {

struct HostLink {
  std::string name;
  std::string mac;
  std::uint32_t mtu = 1500;
  std::string type;  // link_type: "ether", "loopback", "ipip", ...
  std::string kind;  // linkinfo.info_kind: "veth", "tun", "macvlan", ... ("" when not shown)
  std::vector<std::string> addresses;  // CIDR; link-local and host-scope ones are left out
};

struct HostRoute {
  bool ipv6 = false;
  std::string destination;  // as `ip` prints it: "default", "10.0.0.0/8", "10.1.2.3"
  std::string gateway;
  std::string device;
  std::string protocol;  // "kernel" for the routes an address brings
  std::string type;      // "" or "unicast" for ordinary routes
};

// `ip -details -json address show`. Throws Error when it is not that.
std::vector<HostLink> parseLinks(const std::string& ipAddressJson);
// `ip -json -4|-6 route show table main`.
std::vector<HostRoute> parseRoutes(const std::string& ipRouteJson, bool ipv6);

struct NetworkPlan {
  std::vector<agent::Interface> interfaces;  // one guest NIC (and one tap) each
  std::vector<agent::Route> routes;          // in the order the guest must add them
};

// Every Ethernet link (veth, macvlan...) becomes a guest interface with its name, MAC, MTU
// and addresses; loopback, tunnels and taps are not. Routes through those interfaces follow,
// except the ones the guest kernel makes itself (protocol kernel: an address's subnet,
// IPv6 link-local): directly connected first, then via gateways, default routes last.
// Throws Error when the namespace holds a runvirt tap other than `ownTaps` (another runvirt
// container's).
NetworkPlan planNetwork(const std::vector<HostLink>& links, const std::vector<HostRoute>& routes,
                        const std::vector<std::string>& ownTaps = {});

}  // namespace runvirt::backend

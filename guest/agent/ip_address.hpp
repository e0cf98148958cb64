// IP addresses and prefixes as the agent's network requests spell them ("172.17.0.2/16",
// "fd00::2/64", "default"). Pure: unit-tested.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::agent {

struct IpAddress {
  int family = AF_INET;                  // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};  // the first 4 for IPv4, the rest zero
  std::size_t size() const { return family == AF_INET ? 4 : 16; }
  bool operator==(const IpAddress&) const = default;
};

struct IpPrefix {
  IpAddress address;
  unsigned length = 0;
  bool operator==(const IpPrefix&) const = default;
};

// Throws Error naming the text when it is not an address of either family.
IpAddress parseIpAddress(std::string_view text);
// "ADDRESS/LENGTH"; the length must fit the family.
IpPrefix parseIpPrefix(std::string_view text);
// The IPv4 broadcast address of `prefix` (all host bits set); none for /31 and /32.
std::optional<IpAddress> broadcastOf(const IpPrefix& prefix);
// "172.17.0.2", "fd00::2"; "172.17.0.2/16".
std::string toString(const IpAddress& address);
std::string toString(const IpPrefix& prefix);
// The prefix with its host bits cleared ("10.1.2.3/16" -> "10.1.0.0/16"): how the kernel keeps a
// route's destination.
IpPrefix networkOf(const IpPrefix& prefix);
// IPv6 link-local (fe80::/10) and loopback (127.0.0.0/8, ::1) addresses: the kernel's own.
bool isLinkLocalOrLoopback(const IpAddress& address);
// A route's destination: "default" is 0.0.0.0/0, or ::/0 when the gateway is IPv6.
IpPrefix routeDestination(const Route& route);
// "02:42:AC:11:00:02" and "02:42:ac:11:00:02" are the same MAC.
bool sameMac(std::string_view a, std::string_view b);

}  // namespace runvirt::agent

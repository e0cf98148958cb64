// The agent's rtnetlink client: adds, lists and deletes addresses and routes (there is no `ip`
// in the guest). Each change waits for the kernel's acknowledgement; a refusal throws Error with
// its errno. Lists are dumps read whole (every part up to NLMSG_DONE) through a fixed buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ip_address.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

// An address of an interface as the kernel lists it.
struct InterfaceAddress {
  IpPrefix prefix;  // the interface's own address (IFA_LOCAL, else IFA_ADDRESS) and its length
  std::uint32_t flags =
      0;  // IFA_F_* (from IFA_FLAGS when present: it has the bits past the first 8)
  std::uint8_t scope = 0;  // RT_SCOPE_*
};

// A route of the main table as the kernel lists it.
struct RouteEntry {
  IpPrefix destination;  // length 0 for a default route
  std::optional<IpAddress> gateway;
  int interfaceIndex = 0;      // RTA_OIF; 0 for a multipath route or one without a device
  std::uint8_t protocol = 0;   // RTPROT_*: who added it (the agent: RTPROT_BOOT)
  std::uint8_t type = 0;       // RTN_*
  std::uint32_t priority = 0;  // RTA_PRIORITY (the metric); 0 when absent
};

class RouteNetlink {
 public:
  RouteNetlink();

  // IPv4 addresses get their broadcast address; IPv6 ones skip duplicate address detection
  // (the address is the container's, configured on the host already).
  void addAddress(int interfaceIndex, const IpPrefix& address);
  // False when the interface does not have it (any more).
  bool deleteAddress(int interfaceIndex, const IpPrefix& address);
  // Every IPv4 and IPv6 address of the interface.
  std::vector<InterfaceAddress> addresses(int interfaceIndex);

  // A unicast route of the main table added with RTPROT_BOOT: through `gateway`, or directly
  // connected without one. False when it already exists.
  bool addRoute(int interfaceIndex, const IpPrefix& destination,
                const std::optional<IpAddress>& gateway);
  // Deletes exactly that route (its protocol and metric included). False when it is gone already.
  bool deleteRoute(const RouteEntry& route);
  // The routes of `family` (AF_INET or AF_INET6) in the main table, whoever added them.
  std::vector<RouteEntry> routes(int family);

 private:
  // Sends one request and returns the kernel's answer: 0 or a negative errno.
  int request(std::string message);
  // Sends a dump request and hands each answer message (header, then payload) to `onMessage`
  // until NLMSG_DONE. False when the kernel marked the dump interrupted (the table changed
  // meanwhile): what was handed over may be inconsistent.
  template <class OnMessage>
  bool dump(std::string message, OnMessage&& onMessage);
  // The entries `parse` makes of a dump's messages (std::nullopt: not wanted), dumped again
  // when it was interrupted.
  template <class Parse>
  auto dumpAll(const std::string& what, const std::string& message, Parse&& parse);
  // Gives `message` the next sequence number, sends it and returns that number.
  std::uint32_t send(std::string& message);
  // Receives one datagram into buffer_; throws when it did not fit.
  std::size_t receive();

  UniqueFd fd_;
  std::uint32_t sequence_ = 0;
  std::vector<char> buffer_;
};

}  // namespace runvirt::agent

// The agent's rtnetlink client: adds addresses and routes (there is no `ip` in the guest).
// Each request waits for the kernel's acknowledgement; a refusal throws Error with its errno.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ip_address.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

class RouteNetlink {
 public:
  RouteNetlink();

  // IPv4 addresses get their broadcast address; IPv6 ones skip duplicate address detection
  // (the address is the container's, configured on the host already).
  void addAddress(int interfaceIndex, const IpPrefix& address);
  // Through `gateway`, or directly connected without one. False when it already exists.
  bool addRoute(int interfaceIndex, const IpPrefix& destination,
                const std::optional<IpAddress>& gateway);

 private:
  // Sends one request and returns the kernel's answer: 0 or a negative errno.
  int request(std::string message);

  UniqueFd fd_;
  std::uint32_t sequence_ = 0;
};

}  // namespace runvirt::agent

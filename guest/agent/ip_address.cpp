#include "ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "runvirt/error.hpp"

namespace runvirt::agent {

IpAddress parseIpAddress(std::string_view text) {
  IpAddress address;
  std::string copy(text);
  address.family = copy.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (inet_pton(address.family, copy.c_str(), address.bytes.data()) != 1) {
    throw Error("invalid IP address " + quote(text), ErrorKind::InvalidArgument);
  }
  return address;
}

IpPrefix parseIpPrefix(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw Error("invalid prefix " + quote(text) + ": no length", ErrorKind::InvalidArgument);
  }
  IpPrefix prefix{parseIpAddress(text.substr(0, slash)), 0};
  std::string_view length = text.substr(slash + 1);
  auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), prefix.length);
  if (error != std::errc() || end != length.data() + length.size() || length.empty() ||
      prefix.length > prefix.address.size() * 8) {
    throw Error("invalid prefix " + quote(text) + ": bad length", ErrorKind::InvalidArgument);
  }
  return prefix;
}

std::optional<IpAddress> broadcastOf(const IpPrefix& prefix) {
  if (prefix.address.family != AF_INET || prefix.length >= 31) return std::nullopt;
  IpAddress broadcast = prefix.address;
  for (unsigned bit = prefix.length; bit < 32; ++bit)
    broadcast.bytes[bit / 8] |= std::uint8_t(0x80 >> (bit % 8));
  return broadcast;
}

std::string toString(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  inet_ntop(address.family, address.bytes.data(), text, sizeof text);
  return text;
}

std::string toString(const IpPrefix& prefix) {
  return toString(prefix.address) + "/" + std::to_string(prefix.length);
}

IpPrefix networkOf(const IpPrefix& prefix) {
  IpPrefix network = prefix;
  for (unsigned bit = prefix.length; bit < network.address.size() * 8; ++bit) {
    network.address.bytes[bit / 8] &= std::uint8_t(~(0x80 >> (bit % 8)));
  }
  return network;
}

bool isLinkLocalOrLoopback(const IpAddress& address) {
  const auto& b = address.bytes;
  if (address.family == AF_INET) return b[0] == 127;
  bool linkLocal = b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
  bool loopback =
      std::all_of(b.begin(), b.end() - 1, [](std::uint8_t x) { return x == 0; }) && b[15] == 1;
  return linkLocal || loopback;
}

IpPrefix routeDestination(const Route& route) {
  if (route.destination == "default") {
    IpPrefix any;
    any.address.family = !route.gateway.empty() ? parseIpAddress(route.gateway).family : AF_INET;
    return any;
  }
  return parseIpPrefix(route.destination);
}

bool sameMac(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace runvirt::agent

#include "route_netlink.hpp"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "runvirt/error.hpp"

namespace runvirt::agent {

namespace {

// The kernel builds no dump datagram larger than 32 KiB (less its skb overhead) whatever the
// reader offers; a larger answer is an error, not a reason to grow.
constexpr std::size_t kReceiveBuffer = 32 * 1024;
// The kernel bounds what it sends, but not what a container may have added to its tables:
// the agent keeps no more entries than this from one dump.
constexpr std::size_t kMaxDumpEntries = 65536;
// A dump interrupted by a change is read again; a table changing all the time is an error.
constexpr int kDumpAttempts = 5;

// Builds one netlink message: header, fixed part, then attributes, each 4-byte aligned.
class Message {
 public:
  // NLM_F_REQUEST is implied.
  Message(std::uint16_t type, std::uint16_t flags) {
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    append(&header, sizeof header);
  }
  template <class T>
  void body(const T& fixed) {
    append(&fixed, sizeof fixed);
  }
  void attribute(std::uint16_t type, const void* data, std::size_t size) {
    rtattr attr{};
    attr.rta_type = type;
    attr.rta_len = static_cast<std::uint16_t>(RTA_LENGTH(size));
    append(&attr, sizeof attr);
    append(data, size);
  }
  void attribute(std::uint16_t type, const IpAddress& address) {
    attribute(type, address.bytes.data(), address.size());
  }
  void attribute(std::uint16_t type, std::uint32_t value) { attribute(type, &value, sizeof value); }
  // The message with its length; send() stamps the sequence number.
  std::string finish() {
    auto* header = reinterpret_cast<nlmsghdr*>(bytes_.data());
    header->nlmsg_len = static_cast<std::uint32_t>(bytes_.size());
    return bytes_;
  }

 private:
  void append(const void* data, std::size_t size) {
    bytes_.append(static_cast<const char*>(data), size);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), '\0');
  }
  std::string bytes_;
};

// Calls onMessage(header, payload) for each whole message in one received datagram.
template <class OnMessage>
void forEachMessage(std::string_view datagram, OnMessage&& onMessage) {
  while (datagram.size() >= sizeof(nlmsghdr)) {
    nlmsghdr header;
    std::memcpy(&header, datagram.data(), sizeof header);
    if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > datagram.size()) return;
    onMessage(header, datagram.substr(NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN));
    datagram.remove_prefix(std::min<std::size_t>(NLMSG_ALIGN(header.nlmsg_len), datagram.size()));
  }
}

// Calls onAttribute(type, data) for each attribute; stops at a malformed one.
template <class OnAttribute>
void forEachAttribute(std::string_view attributes, OnAttribute&& onAttribute) {
  while (attributes.size() >= sizeof(rtattr)) {
    rtattr attr;
    std::memcpy(&attr, attributes.data(), sizeof attr);
    if (attr.rta_len < RTA_LENGTH(0) || attr.rta_len > attributes.size()) return;
    onAttribute(static_cast<std::uint16_t>(attr.rta_type & NLA_TYPE_MASK),
                attributes.substr(RTA_LENGTH(0), attr.rta_len - RTA_LENGTH(0)));
    attributes.remove_prefix(std::min<std::size_t>(RTA_ALIGN(attr.rta_len), attributes.size()));
  }
}

template <class Fixed>
std::optional<Fixed> fixedPart(std::string_view payload) {
  if (payload.size() < sizeof(Fixed)) return std::nullopt;
  Fixed fixed;
  std::memcpy(&fixed, payload.data(), sizeof fixed);
  return fixed;
}

template <class Fixed>
std::string_view attributesAfter(std::string_view payload) {
  return payload.substr(std::min<std::size_t>(NLMSG_ALIGN(sizeof(Fixed)), payload.size()));
}

std::optional<IpAddress> ipAddressOf(int family, std::string_view data) {
  IpAddress address;
  address.family = family;
  if (data.size() != address.size()) return std::nullopt;
  std::memcpy(address.bytes.data(), data.data(), data.size());
  return address;
}

std::optional<std::uint32_t> u32Of(std::string_view data) {
  if (data.size() != sizeof(std::uint32_t)) return std::nullopt;
  std::uint32_t value;
  std::memcpy(&value, data.data(), sizeof value);
  return value;
}

std::optional<InterfaceAddress> parseAddress(const nlmsghdr& header, std::string_view payload,
                                             int interfaceIndex) {
  auto ifa = fixedPart<ifaddrmsg>(payload);
  if (header.nlmsg_type != RTM_NEWADDR || !ifa ||
      ifa->ifa_index != static_cast<std::uint32_t>(interfaceIndex) ||
      (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)) {
    return std::nullopt;
  }
  std::optional<IpAddress> local, address;
  std::uint32_t flags = ifa->ifa_flags;
  forEachAttribute(attributesAfter<ifaddrmsg>(payload),
                   [&](std::uint16_t type, std::string_view data) {
                     if (type == IFA_LOCAL) local = ipAddressOf(ifa->ifa_family, data);
                     if (type == IFA_ADDRESS) address = ipAddressOf(ifa->ifa_family, data);
                     if (type == IFA_FLAGS) flags = u32Of(data).value_or(flags);
                   });
  // IFA_ADDRESS is the peer's on a point-to-point link; IPv6 often sends only IFA_ADDRESS.
  std::optional<IpAddress> own = local ? local : address;
  if (!own || ifa->ifa_prefixlen > own->size() * 8) return std::nullopt;
  return InterfaceAddress{{*own, ifa->ifa_prefixlen}, flags, ifa->ifa_scope};
}

std::optional<RouteEntry> parseRoute(const nlmsghdr& header, std::string_view payload, int family) {
  auto rt = fixedPart<rtmsg>(payload);
  // A kernel without the family answers the dump with every family's routes.
  if (header.nlmsg_type != RTM_NEWROUTE || !rt || rt->rtm_family != family) return std::nullopt;
  RouteEntry route;
  route.destination.address.family = family;
  route.destination.length = rt->rtm_dst_len;
  route.protocol = rt->rtm_protocol;
  route.type = rt->rtm_type;
  std::uint32_t table = rt->rtm_table;
  bool hasDestination = false;
  forEachAttribute(attributesAfter<rtmsg>(payload), [&](std::uint16_t type, std::string_view data) {
    if (type == RTA_TABLE) table = u32Of(data).value_or(table);
    if (type == RTA_DST) {
      if (auto destination = ipAddressOf(family, data)) {
        route.destination.address = *destination;
        hasDestination = true;
      }
    }
    if (type == RTA_GATEWAY) route.gateway = ipAddressOf(family, data);
    if (type == RTA_OIF) route.interfaceIndex = static_cast<int>(u32Of(data).value_or(0));
    if (type == RTA_PRIORITY) route.priority = u32Of(data).value_or(0);
  });
  if (table != RT_TABLE_MAIN || route.destination.length > route.destination.address.size() * 8 ||
      (route.destination.length > 0 && !hasDestination)) {
    return std::nullopt;
  }
  return route;
}

std::string describeRoute(const IpPrefix& destination, const std::optional<IpAddress>& gateway) {
  std::string text = toString(destination);
  if (gateway) text += " via " + toString(*gateway);
  return text;
}

}  // namespace

RouteNetlink::RouteNetlink()
    : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)), buffer_(kReceiveBuffer) {
  if (!fd_) throwErrno("netlink socket");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    throwErrno("bind netlink socket");
}

std::uint32_t RouteNetlink::send(std::string& message) {
  auto* header = reinterpret_cast<nlmsghdr*>(message.data());
  header->nlmsg_seq = ++sequence_;
  if (::send(fd_.get(), message.data(), message.size(), 0) !=
      static_cast<ssize_t>(message.size())) {
    throwErrno("send netlink request");
  }
  return sequence_;
}

std::size_t RouteNetlink::receive() {
  for (;;) {
    // MSG_TRUNC: the datagram's real length, to tell a truncated one.
    ssize_t n = ::recv(fd_.get(), buffer_.data(), buffer_.size(), MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throwErrno("read netlink answer");
    if (static_cast<std::size_t>(n) > buffer_.size()) {
      throw Error("netlink answer of " + std::to_string(n) + " bytes: larger than the agent reads");
    }
    return static_cast<std::size_t>(n);
  }
}

int RouteNetlink::request(std::string message) {
  std::uint32_t sent = send(message);
  for (;;) {
    std::optional<int> answer;
    forEachMessage({buffer_.data(), receive()},
                   [&](const nlmsghdr& header, std::string_view payload) {
                     // Other sequence numbers: answers to an earlier request nobody waits for any
                     // more.
                     if (answer || header.nlmsg_seq != sent || header.nlmsg_type != NLMSG_ERROR)
                       return;
                     if (auto error = fixedPart<nlmsgerr>(payload)) answer = error->error;
                   });
    if (answer) return *answer;
  }
}

template <class OnMessage>
bool RouteNetlink::dump(std::string message, OnMessage&& onMessage) {
  std::uint32_t sent = send(message);
  bool consistent = true;
  std::optional<int> done;  // the dump's final status: 0 or a negative errno
  while (!done) {
    forEachMessage({buffer_.data(), receive()},
                   [&](const nlmsghdr& header, std::string_view payload) {
                     if (done || header.nlmsg_seq != sent) return;
                     if (header.nlmsg_flags & NLM_F_DUMP_INTR) consistent = false;
                     if (header.nlmsg_type == NLMSG_DONE) {
                       done = fixedPart<int>(payload).value_or(0);
                     } else if (header.nlmsg_type == NLMSG_ERROR) {
                       if (auto error = fixedPart<nlmsgerr>(payload); error && error->error != 0)
                         done = error->error;
                     } else {
                       onMessage(header, payload);
                     }
                   });
  }
  if (*done < 0) throwErrno("netlink dump", -*done);
  return consistent;
}

template <class Parse>
auto RouteNetlink::dumpAll(const std::string& what, const std::string& message, Parse&& parse) {
  using Entry = typename std::invoke_result_t<Parse, const nlmsghdr&, std::string_view>::value_type;
  for (int attempt = 1;; ++attempt) {
    std::vector<Entry> entries;
    bool tooMany = false;
    bool consistent = dump(message, [&](const nlmsghdr& header, std::string_view payload) {
      auto entry = parse(header, payload);
      if (!entry) return;
      if (entries.size() == kMaxDumpEntries) tooMany = true;  // read on to NLMSG_DONE all the same
      if (!tooMany) entries.push_back(std::move(*entry));
    });
    if (tooMany) throw Error("list " + what + ": more than " + std::to_string(kMaxDumpEntries));
    if (consistent) return entries;
    if (attempt == kDumpAttempts)
      throw Error("list " + what + ": they kept changing while the kernel listed them");
  }
}

void RouteNetlink::addAddress(int interfaceIndex, const IpPrefix& address) {
  Message m(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<std::uint8_t>(address.address.family);
  ifa.ifa_prefixlen = static_cast<std::uint8_t>(address.length);
  ifa.ifa_flags = address.address.family == AF_INET6 ? IFA_F_NODAD : 0;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<std::uint32_t>(interfaceIndex);
  m.body(ifa);
  m.attribute(IFA_LOCAL, address.address);
  m.attribute(IFA_ADDRESS, address.address);
  if (auto broadcast = broadcastOf(address)) m.attribute(IFA_BROADCAST, *broadcast);
  int error = request(m.finish());
  if (error != 0) throwErrno("add address " + toString(address), -error);
}

bool RouteNetlink::deleteAddress(int interfaceIndex, const IpPrefix& address) {
  Message m(RTM_DELADDR, NLM_F_ACK);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<std::uint8_t>(address.address.family);
  ifa.ifa_prefixlen = static_cast<std::uint8_t>(address.length);
  ifa.ifa_index = static_cast<std::uint32_t>(interfaceIndex);
  m.body(ifa);
  // As `ip address del`: IPv4 matches the local address, IPv6 the address; both check the length.
  m.attribute(IFA_LOCAL, address.address);
  m.attribute(IFA_ADDRESS, address.address);
  int error = request(m.finish());
  if (error == -EADDRNOTAVAIL) return false;
  if (error != 0) throwErrno("delete address " + toString(address), -error);
  return true;
}

std::vector<InterfaceAddress> RouteNetlink::addresses(int interfaceIndex) {
  Message m(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  m.body(ifa);
  // Without strict checking the kernel dumps every interface's addresses; keep this one's.
  return dumpAll("the addresses of interface " + std::to_string(interfaceIndex), m.finish(),
                 [&](const nlmsghdr& header, std::string_view payload) {
                   return parseAddress(header, payload, interfaceIndex);
                 });
}

bool RouteNetlink::addRoute(int interfaceIndex, const IpPrefix& destination,
                            const std::optional<IpAddress>& gateway) {
  Message m(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  rtmsg rt{};
  rt.rtm_family = static_cast<std::uint8_t>(destination.address.family);
  rt.rtm_dst_len = static_cast<std::uint8_t>(destination.length);
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = RTPROT_BOOT;
  rt.rtm_scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rt.rtm_type = RTN_UNICAST;
  m.body(rt);
  if (destination.length > 0) m.attribute(RTA_DST, destination.address);
  if (gateway) m.attribute(RTA_GATEWAY, *gateway);
  m.attribute(RTA_OIF, static_cast<std::uint32_t>(interfaceIndex));
  int error = request(m.finish());
  if (error == -EEXIST) return false;
  if (error != 0) throwErrno("add route " + describeRoute(destination, gateway), -error);
  return true;
}

bool RouteNetlink::deleteRoute(const RouteEntry& route) {
  Message m(RTM_DELROUTE, NLM_F_ACK);
  rtmsg rt{};
  rt.rtm_family = static_cast<std::uint8_t>(route.destination.address.family);
  rt.rtm_dst_len = static_cast<std::uint8_t>(route.destination.length);
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = route.protocol;  // another protocol's route to the same place stays
  rt.rtm_scope = RT_SCOPE_NOWHERE;   // any scope
  rt.rtm_type = route.type;
  m.body(rt);
  if (route.destination.length > 0) m.attribute(RTA_DST, route.destination.address);
  if (route.gateway) m.attribute(RTA_GATEWAY, *route.gateway);
  if (route.interfaceIndex > 0)
    m.attribute(RTA_OIF, static_cast<std::uint32_t>(route.interfaceIndex));
  if (route.priority > 0) m.attribute(RTA_PRIORITY, route.priority);
  int error = request(m.finish());
  if (error == -ESRCH) return false;
  if (error != 0)
    throwErrno("delete route " + describeRoute(route.destination, route.gateway), -error);
  return true;
}

std::vector<RouteEntry> RouteNetlink::routes(int family) {
  Message m(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg rt{};
  rt.rtm_family = static_cast<std::uint8_t>(family);
  m.body(rt);
  return dumpAll(family == AF_INET6 ? "the IPv6 routes" : "the IPv4 routes", m.finish(),
                 [&](const nlmsghdr& header, std::string_view payload) {
                   return parseRoute(header, payload, family);
                 });
}

}  // namespace runvirt::agent

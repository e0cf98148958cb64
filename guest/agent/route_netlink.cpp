#include "route_netlink.hpp"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runvirt/error.hpp"

namespace runvirt::agent {

namespace {

// Builds one netlink message: header, fixed part, then attributes, each 4-byte aligned.
class Message {
 public:
  Message(std::uint16_t type, std::uint16_t flags) {
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
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
  std::string finish(std::uint32_t sequence) {
    auto* header = reinterpret_cast<nlmsghdr*>(bytes_.data());
    header->nlmsg_len = static_cast<std::uint32_t>(bytes_.size());
    header->nlmsg_seq = sequence;
    return bytes_;
  }

 private:
  void append(const void* data, std::size_t size) {
    bytes_.append(static_cast<const char*>(data), size);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), '\0');
  }
  std::string bytes_;
};

std::string describeAddress(const IpAddress& a) {
  char text[64] = "?";
  inet_ntop(a.family, a.bytes.data(), text, sizeof text);
  return text;
}

}  // namespace

RouteNetlink::RouteNetlink() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
  if (!fd_) throwErrno("netlink socket");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) throwErrno("bind netlink socket");
}

void RouteNetlink::addAddress(int interfaceIndex, const IpPrefix& address) {
  Message m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<std::uint8_t>(address.address.family);
  ifa.ifa_prefixlen = static_cast<std::uint8_t>(address.length);
  ifa.ifa_flags = address.address.family == AF_INET6 ? IFA_F_NODAD : 0;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<std::uint32_t>(interfaceIndex);
  m.body(ifa);
  m.attribute(IFA_LOCAL, address.address.bytes.data(), address.address.size());
  m.attribute(IFA_ADDRESS, address.address.bytes.data(), address.address.size());
  if (auto broadcast = broadcastOf(address)) m.attribute(IFA_BROADCAST, broadcast->bytes.data(), broadcast->size());
  int error = request(m.finish(++sequence_));
  if (error != 0) {
    throwErrno("add address " + describeAddress(address.address) + "/" + std::to_string(address.length), -error);
  }
}

bool RouteNetlink::addRoute(int interfaceIndex, const IpPrefix& destination,
                           const std::optional<IpAddress>& gateway) {
  Message m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  rtmsg rt{};
  rt.rtm_family = static_cast<std::uint8_t>(destination.address.family);
  rt.rtm_dst_len = static_cast<std::uint8_t>(destination.length);
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = RTPROT_BOOT;
  rt.rtm_scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rt.rtm_type = RTN_UNICAST;
  m.body(rt);
  if (destination.length > 0) m.attribute(RTA_DST, destination.address.bytes.data(), destination.address.size());
  if (gateway) m.attribute(RTA_GATEWAY, gateway->bytes.data(), gateway->size());
  auto index = static_cast<std::uint32_t>(interfaceIndex);
  m.attribute(RTA_OIF, &index, sizeof index);
  int error = request(m.finish(++sequence_));
  if (error == -EEXIST) return false;
  if (error != 0) {
    std::string what = "add route " + describeAddress(destination.address) + "/" + std::to_string(destination.length);
    if (gateway) what += " via " + describeAddress(*gateway);
    throwErrno(what, -error);
  }
  return true;
}

int RouteNetlink::request(std::string message) {
  if (::send(fd_.get(), message.data(), message.size(), 0) != static_cast<ssize_t>(message.size())) {
    throwErrno("send netlink request");
  }
  auto sent = reinterpret_cast<const nlmsghdr*>(message.data())->nlmsg_seq;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throwErrno("read netlink answer");
    std::size_t at = 0, size = static_cast<std::size_t>(n);
    while (at + sizeof(nlmsghdr) <= size) {
      nlmsghdr header;
      std::memcpy(&header, buffer + at, sizeof header);
      if (header.nlmsg_len < sizeof header || at + header.nlmsg_len > size) break;
      if (header.nlmsg_seq == sent && header.nlmsg_type == NLMSG_ERROR &&
          header.nlmsg_len >= sizeof header + sizeof(nlmsgerr)) {
        nlmsgerr answer;
        std::memcpy(&answer, buffer + at + NLMSG_HDRLEN, sizeof answer);
        return answer.error;
      }
      at += NLMSG_ALIGN(header.nlmsg_len);
    }
  }
}

}  // namespace runvirt::agent

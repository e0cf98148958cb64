#include "network/container_network.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "network/net_tool.hpp"
#include "network/network_namespace.hpp"
#include "network/tap.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"

namespace runvirt::backend {

namespace {

// Names of the calling thread's network interfaces, without asking `ip`.
std::vector<std::string> interfaceNames() {
  std::vector<std::string> names;
  struct if_nameindex* list = if_nameindex();
  if (!list) throwErrno("list network interfaces");
  for (struct if_nameindex* i = list; i->if_index != 0; ++i) names.emplace_back(i->if_name);
  if_freenameindex(list);
  return names;
}

bool hasIpv6Address(const std::vector<HostLink>& links) {
  return std::any_of(links.begin(), links.end(), [](const HostLink& l) {
    return std::any_of(l.addresses.begin(), l.addresses.end(),
                       [](const std::string& a) { return a.find(':') != std::string::npos; });
  });
}

// The tap only relays frames: no IPv6 link-local address, no router solicitations of its own.
void disableIpv6(const std::string& device) {
  std::string path = "/proc/sys/net/ipv6/conf/" + device + "/disable_ipv6";
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;  // IPv6 off in this namespace or kernel: nothing to disable
  [[maybe_unused]] ssize_t n = write(fd, "1", 1);
  close(fd);
}

// Everything arriving on `from` leaves through `to`, untouched (u32 matching every packet:
// this host kernel has no matchall classifier).
void redirectIngress(const std::string& from, const std::string& to, const char* priority = "10") {
  runNetTool("tc", {"filter", "add", "dev", from, "parent", "ffff:", "prio", priority, "protocol", "all", "u32",
                    "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", to});
}

// Docker's embedded DNS server asks the host's servers about names it does not know itself,
// from the container's namespace on the host and with the container's address. The answers,
// and the ARP replies that namespace needs to send at all, must reach it, not the guest: it
// takes its ports from a band the guest kernel never picks (ephemeral ports end at 60999
// there), and the interface's ingress lets that band through, and ARP too (also to the guest).
// No gact in this kernel: a match without an action passes a packet on.
constexpr const char* kHostPortRange = "65024 65535";
constexpr const char* kHostPortBand[] = {"65024", "0xfe00"};  // dport & 0xfe00 == 0xfe00

void keepHostTraffic(const std::string& link, const std::string& tap) {
  runNetTool("tc", {"filter", "add", "dev", link, "parent", "ffff:", "prio", "1", "protocol", "arp", "u32", "match",
                    "u8", "0", "0", "action", "mirred", "egress", "mirror", "dev", tap, "ok"});
  struct {
    const char* priority;
    const char* ipProtocol;
  } const bands[] = {{"2", "17"}, {"3", "6"}};  // UDP, TCP
  for (const auto& band : bands) {
    runNetTool("tc", {"filter", "add", "dev", link, "parent", "ffff:", "prio", band.priority, "protocol", "ip", "u32",
                      "match", "ip", "protocol", band.ipProtocol, "0xff", "match", "ip", "dport", kHostPortBand[0],
                      kHostPortBand[1], "flowid", "ffff:1"});
  }
}

void reserveHostPorts() {
  std::string path = "/proc/sys/net/ipv4/ip_local_port_range";
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throwErrno("open " + path);
  ssize_t n = write(fd, kHostPortRange, std::strlen(kHostPortRange));
  int error = errno;
  close(fd);
  if (n < 0) throwErrno("write " + path, error);
}

template <class F>
void tryStep(const std::string& what, F&& step) noexcept {
  try {
    step();
  } catch (const std::exception& e) {
    log::warn("network clean-up: " + what + ": " + e.what());
  }
}

}  // namespace

ContainerNetwork ContainerNetwork::discover(UniqueFd hostNamespace) {
  ContainerNetwork network;
  network.hostNamespace_ = std::move(hostNamespace);
  auto names = interfaceNames();
  // `--network none` (loopback only) needs no `ip` at all.
  if (std::all_of(names.begin(), names.end(), [](const std::string& n) { return n == "lo"; })) return network;
  auto links = parseLinks(runNetTool("ip", {"-details", "-json", "address", "show"}));
  auto routes = parseRoutes(runNetTool("ip", {"-json", "-4", "route", "show", "table", "main"}), false);
  if (hasIpv6Address(links)) {
    auto routes6 = parseRoutes(runNetTool("ip", {"-json", "-6", "route", "show", "table", "main"}), true);
    routes.insert(routes.end(), routes6.begin(), routes6.end());
  }
  network.plan_ = planNetwork(links, routes);
  for (std::size_t i = 0; i < network.plan_.interfaces.size(); ++i) network.taps_.push_back(newTapName());
  return network;
}

void ContainerNetwork::createTaps() {
  for (; created_ < taps_.size(); ++created_) createTap(taps_[created_], hostNamespace_.get());
}

std::vector<NetworkInterface> ContainerNetwork::vmInterfaces() const {
  std::vector<NetworkInterface> out;
  for (std::size_t i = 0; i < taps_.size(); ++i) out.push_back({taps_[i], plan_.interfaces[i].mac});
  return out;
}

void ContainerNetwork::attach() {
  UniqueFd here = openCurrentNetworkNamespace();
  if (keepHostDnsTraffic_ && attached_ < created_) reserveHostPorts();
  while (attached_ < created_) {
    const std::string& tap = taps_[attached_];
    const agent::Interface& link = plan_.interfaces[attached_];
    withContext("connect " + quote(link.name) + " to tap " + quote(tap), [&] {
      {
        NetworkNamespaceScope host(hostNamespace_.get());
        runNetTool("ip", {"link", "set", "dev", tap, "netns", "/proc/self/fd/3"}, {{3, here.get()}});
      }
      ++attached_;  // from here on the tap lives (and dies) with the container's namespace
      disableIpv6(tap);
      runNetTool("ip", {"link", "set", "dev", tap, "mtu", std::to_string(link.mtu), "up"});
      runNetTool("tc", {"qdisc", "add", "dev", link.name, "ingress"});
      if (keepHostDnsTraffic_) keepHostTraffic(link.name, tap);
      redirectIngress(link.name, tap);
      runNetTool("tc", {"qdisc", "add", "dev", tap, "ingress"});
      redirectIngress(tap, link.name);
    });
  }
}

agent::ConfigureNetwork ContainerNetwork::guestConfig(bool dnsRelay) const {
  return {plan_.interfaces, plan_.routes, dnsRelay};
}

void ContainerNetwork::undo() noexcept {
  std::vector<std::string> inHost(taps_.begin() + static_cast<std::ptrdiff_t>(attached_),
                                  taps_.begin() + static_cast<std::ptrdiff_t>(created_));
  tryStep("remove taps from the host", [&] { removeHostTaps(inHost, hostNamespace_.get()); });
  for (std::size_t i = 0; i < attached_; ++i) {
    // Deleting the tap takes its qdisc and the filter pointing at it along.
    tryStep("delete tap " + quote(taps_[i]), [&] { runNetTool("ip", {"link", "delete", "dev", taps_[i]}); });
    tryStep("remove the ingress qdisc of " + quote(plan_.interfaces[i].name),
            [&] { runNetTool("tc", {"qdisc", "del", "dev", plan_.interfaces[i].name, "ingress"}); });
  }
  created_ = attached_ = 0;
}

}  // namespace runvirt::backend

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
  runNetTool("tc", {"filter", "add",      "dev",    from,     "parent",   "ffff:", "prio",
                    priority, "protocol", "all",    "u32",    "match",    "u8",    "0",
                    "0",      "action",   "mirred", "egress", "redirect", "dev",   to});
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
  runNetTool("tc", {"filter",   "add",    "dev",    link,    "parent", "ffff:", "prio", "1",
                    "protocol", "arp",    "u32",    "match", "u8",     "0",     "0",    "action",
                    "mirred",   "egress", "mirror", "dev",   tap,      "ok"});
  struct {
    const char* priority;
    const char* ipProtocol;
  } const bands[] = {{"2", "17"}, {"3", "6"}};  // UDP, TCP
  for (const auto& band : bands) {
    runNetTool("tc", {"filter",
                      "add",
                      "dev",
                      link,
                      "parent",
                      "ffff:",
                      "prio",
                      band.priority,
                      "protocol",
                      "ip",
                      "u32",
                      "match",
                      "ip",
                      "protocol",
                      band.ipProtocol,
                      "0xff",
                      "match",
                      "ip",
                      "dport",
                      kHostPortBand[0],
                      kHostPortBand[1],
                      "flowid",
                      "ffff:1"});
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

bool sameInterface(const agent::Interface& a, const agent::Interface& b) {
  return a.name == b.name && a.mac == b.mac;
}

}  // namespace

ContainerNetwork::ContainerNetwork(UniqueFd hostNamespace, std::string vmDir, bool dnsRelay)
    : hostNamespace_(std::move(hostNamespace)), vmDir_(std::move(vmDir)), dnsRelay_(dnsRelay) {}

NetworkPlan ContainerNetwork::readNamespace() const {
  auto names = interfaceNames();
  // `--network none` (loopback only) needs no `ip` at all.
  if (std::all_of(names.begin(), names.end(), [](const std::string& n) { return n == "lo"; }))
    return {};
  auto links = parseLinks(runNetTool("ip", {"-details", "-json", "address", "show"}));
  auto routes =
      parseRoutes(runNetTool("ip", {"-json", "-4", "route", "show", "table", "main"}), false);
  if (hasIpv6Address(links)) {
    auto routes6 =
        parseRoutes(runNetTool("ip", {"-json", "-6", "route", "show", "table", "main"}), true);
    routes.insert(routes.end(), routes6.begin(), routes6.end());
  }
  return planNetwork(links, routes, taps());
}

std::vector<std::string> ContainerNetwork::taps() const {
  std::vector<std::string> out;
  for (const auto* list : {&nics_, &unplugged_}) {
    for (const auto& nic : *list) out.push_back(nic.tap);
  }
  return out;
}

void ContainerNetwork::createTap(Nic& nic) {
  nic.tap = newTapName();
  std::vector<std::string> all = taps();
  all.push_back(nic.tap);
  // Recorded before it exists, so that a teardown finds what a crash left (tap.hpp).
  recordTaps(vmDir_, all);
  backend::createTap(nic.tap, hostNamespace_.get());
}

std::vector<NetworkInterface> ContainerNetwork::prepareNics() {
  plan_ = readNamespace();
  std::vector<NetworkInterface> prepared;
  for (const auto& link : plan_.interfaces) {
    Nic nic{link, "", false};
    createTap(nic);
    nics_.push_back(nic);
    prepared.push_back({nic.tap, link.mac});
  }
  return prepared;
}

void ContainerNetwork::attach(Nic& nic) {
  UniqueFd here = openCurrentNetworkNamespace();
  withContext("connect " + quote(nic.link.name) + " to tap " + quote(nic.tap), [&] {
    {
      NetworkNamespaceScope host(hostNamespace_.get());
      runNetTool("ip", {"link", "set", "dev", nic.tap, "netns", "/proc/self/fd/3"},
                 {{3, here.get()}});
    }
    nic.attached = true;  // from here on the tap lives (and dies) with the container's namespace
    disableIpv6(nic.tap);
    runNetTool("ip", {"link", "set", "dev", nic.tap, "mtu", std::to_string(nic.link.mtu), "up"});
    runNetTool("tc", {"qdisc", "add", "dev", nic.link.name, "ingress"});
    if (dnsRelay_) keepHostTraffic(nic.link.name, nic.tap);
    redirectIngress(nic.link.name, nic.tap);
    runNetTool("tc", {"qdisc", "add", "dev", nic.tap, "ingress"});
    redirectIngress(nic.tap, nic.link.name);
  });
}

void ContainerNetwork::attachPrepared() {
  if (dnsRelay_ &&
      std::any_of(nics_.begin(), nics_.end(), [](const Nic& n) { return !n.attached; })) {
    reserveHostPorts();
  }
  for (auto& nic : nics_) {
    if (!nic.attached) attach(nic);
  }
}

agent::ConfigureNetwork ContainerNetwork::guestNetwork() const {
  return {plan_.interfaces, plan_.routes, dnsRelay_};
}

bool ContainerNetwork::follow(const std::function<Hypervisor&()>& hypervisor,
                              const std::string& domainName) {
  NetworkPlan now = readNamespace();
  if (now.interfaces == plan_.interfaces && now.routes == plan_.routes) return false;
  // Gone: the interface left the namespace (disconnect); its NIC is unplugged.
  for (auto it = nics_.begin(); it != nics_.end();) {
    bool stays = std::any_of(now.interfaces.begin(), now.interfaces.end(),
                             [&](const agent::Interface& i) { return sameInterface(i, it->link); });
    if (stays) {
      ++it;
      continue;
    }
    log::debug("network: " + quote(it->link.name) + " left the namespace: unplugging its NIC");
    hypervisor().detachDevice(domainName, interfaceAlias({it->tap, it->link.mac}));
    unplugged_.push_back(*it);
    it = nics_.erase(it);
  }
  // New: a NIC plugged in for each interface that came (connect, Docker 28's veth after create).
  for (const auto& link : now.interfaces) {
    bool known = std::any_of(nics_.begin(), nics_.end(),
                             [&](const Nic& n) { return sameInterface(n.link, link); });
    if (known) continue;
    log::debug("network: " + quote(link.name) + " came into the namespace: plugging a NIC in");
    Nic nic{link, "", false};
    createTap(nic);
    nics_.push_back(nic);
    hypervisor().attachDevice(domainName, interfaceXml({nic.tap, link.mac}));
    if (dnsRelay_) reserveHostPorts();
    attach(nics_.back());
  }
  // Addresses, MTUs and routes follow as they are now.
  for (auto& nic : nics_) {
    for (const auto& link : now.interfaces) {
      if (sameInterface(link, nic.link)) nic.link = link;
    }
  }
  plan_ = std::move(now);
  return true;
}

void ContainerNetwork::removeUnplugged() noexcept {
  for (const auto& nic : unplugged_) {
    // Deleting the tap takes its qdisc and filters along; the interface went with its veth.
    tryStep("delete tap " + quote(nic.tap), [&] {
      runNetTool("ip", {"link", "delete", "dev", nic.tap});
    });
  }
  unplugged_.clear();
  tryStep("record taps", [&] { recordTaps(vmDir_, taps()); });
}

void ContainerNetwork::undo() noexcept {
  std::vector<std::string> inHost;
  for (const auto& nic : nics_) {
    if (!nic.attached) inHost.push_back(nic.tap);
  }
  tryStep("remove taps from the host", [&] { removeHostTaps(inHost, hostNamespace_.get()); });
  for (const auto& nic : nics_) {
    if (!nic.attached) continue;
    // Deleting the tap takes its qdisc and the filter pointing at it along.
    tryStep("delete tap " + quote(nic.tap), [&] {
      runNetTool("ip", {"link", "delete", "dev", nic.tap});
    });
    tryStep("remove the ingress qdisc of " + quote(nic.link.name), [&] {
      runNetTool("tc", {"qdisc", "del", "dev", nic.link.name, "ingress"});
    });
  }
  nics_.clear();
  removeUnplugged();
}

}  // namespace runvirt::backend

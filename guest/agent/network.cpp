#include "network.hpp"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <thread>

#include "file_util.hpp"
#include "log.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"

namespace runvirt::agent {

namespace {

// virtio_net registers its NICs while its module loads, before the agent says hello; the
// wait only covers a slow probe (or a NIC the host has just plugged in).
constexpr auto kNicWait = std::chrono::seconds(3);

std::optional<std::string> nicWithMac(const std::string& sysfs, const std::string& mac) {
  // Only virtio NICs: a bridge the container made has the MAC of its first port.
  for (const auto& nic : virtioNics(sysfs)) {
    if (sameMac(nic.mac, mac)) return nic.name;
  }
  return std::nullopt;
}

std::string findNic(const std::string& sysfs, const Interface& interface) {
  auto deadline = std::chrono::steady_clock::now() + kNicWait;
  for (;;) {
    if (auto name = nicWithMac(sysfs, interface.mac)) return *name;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error("interface " + quote(interface.name) + ": no NIC with MAC " +
                  quote(interface.mac));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

class LinkControl {
 public:
  LinkControl() : sock_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (!sock_) throwErrno("socket");
  }
  void rename(const std::string& from, const std::string& to) {
    ifreq req = request(from);
    std::strncpy(req.ifr_newname, to.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock_.get(), SIOCSIFNAME, &req) != 0)
      throwErrno("rename " + quote(from) + " to " + quote(to));
  }
  void setMtu(const std::string& name, std::uint32_t mtu) {
    ifreq req = request(name);
    req.ifr_mtu = static_cast<int>(mtu);
    if (::ioctl(sock_.get(), SIOCSIFMTU, &req) != 0) {
      throwErrno("set the MTU of " + quote(name) + " to " + std::to_string(mtu));
    }
  }
  void bringUp(const std::string& name) { setUp(name, true); }
  void takeDown(const std::string& name) { setUp(name, false); }

 private:
  void setUp(const std::string& name, bool up) {
    ifreq req = request(name);
    if (::ioctl(sock_.get(), SIOCGIFFLAGS, &req) != 0) throwErrno("get flags of " + quote(name));
    short flags = up ? short(req.ifr_flags | IFF_UP) : short(req.ifr_flags & ~IFF_UP);
    if (flags == req.ifr_flags) return;
    req.ifr_flags = flags;
    if (::ioctl(sock_.get(), SIOCSIFFLAGS, &req) != 0) {
      throwErrno(up ? "bring " + quote(name) + " up" : "take " + quote(name) + " down");
    }
  }
  static ifreq request(const std::string& name) {
    if (name.empty() || name.size() >= IFNAMSIZ)
      throw Error("invalid interface name " + quote(name));
    ifreq req{};
    std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
    return req;
  }
  UniqueFd sock_;
};

int indexOf(const std::string& name) {
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) throwErrno("interface " + quote(name));
  return static_cast<int>(index);
}

bool exists(const std::string& link) { return if_nametoindex(link.c_str()) != 0; }

// Every link of the guest, the container's own among them.
std::vector<std::string> linkNames() {
  std::vector<std::string> names;
  struct if_nameindex* list = if_nameindex();
  if (!list) throwErrno("list network interfaces");
  for (struct if_nameindex* i = list; i->if_index != 0; ++i) names.emplace_back(i->if_name);
  if_freenameindex(list);
  return names;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// What the request asks for, parsed before anything changes: a malformed request changes nothing.
struct WantedInterface {
  const Interface& request;
  std::vector<IpPrefix> addresses;
  bool ipv6 = false;
};
struct WantedRoute {
  const Route& request;
  IpPrefix destination;
  std::optional<IpAddress> gateway;
};

WantedInterface parseInterface(const Interface& interface) {
  // Checked here, not by the kernel: the name also makes paths under /proc/sys.
  if (!isValidInterfaceName(interface.name))
    throw Error("invalid name", ErrorKind::InvalidArgument);
  WantedInterface wanted{interface, {}, false};
  for (const auto& address : interface.addresses) {
    wanted.addresses.push_back(parseIpPrefix(address));
    if (wanted.addresses.back().address.family == AF_INET6) wanted.ipv6 = true;
  }
  return wanted;
}

WantedRoute parseRoute(const Route& route) {
  WantedRoute wanted{route, routeDestination(route), std::nullopt};
  if (!route.gateway.empty()) wanted.gateway = parseIpAddress(route.gateway);
  if (wanted.gateway && wanted.gateway->family != wanted.destination.address.family) {
    throw Error("gateway of another address family", ErrorKind::InvalidArgument);
  }
  return wanted;
}

// A NIC the request does not name: the host is unplugging it (or never meant it for this
// container). `slot`: its hot-plug slot, looked up under its name before any rename.
struct LeavingNic {
  std::string name;
  std::optional<std::string> slot;
};

// Runs `step` on a leaving NIC; the NIC vanishing meanwhile (the host's unplug completing) is
// what was wanted, not an error.
template <class Step>
void onLeavingNic(const std::string& name, Step&& step) {
  try {
    withContext("interface " + quote(name) + " (not requested)", step);
  } catch (const Error&) {
    if (exists(name)) throw;
  }
}

// Down, addresses gone, and out of its slot: traffic stops at once and the host's unplug
// completes without waiting. A NIC on a bus without hot-plug only stays down.
void retire(LinkControl& links, RouteNetlink& netlink, const LeavingNic& nic) {
  onLeavingNic(nic.name, [&] {
    links.takeDown(nic.name);
    int index = indexOf(nic.name);
    for (const auto& address : netlink.addresses(index))
      netlink.deleteAddress(index, address.prefix);
  });
  if (!nic.slot || !exists(nic.name)) return;
  try {
    powerOffSlot(*nic.slot);
    log::debug("powered off the slot of %s", nic.name.c_str());
  } catch (const Error& e) {
    // The NIC is down and bare already; the host's unplug completes all the same, only later.
    if (exists(nic.name))
      log::warn("interface %s: power off its slot: %s", nic.name.c_str(), e.what());
  }
}

// As under runc, where Docker turns IPv6 off on an interface without an IPv6 address: no
// link-local address, no router solicitations. Back on when the interface gets one.
void setIpv6(const std::string& name, bool enabled) {
  std::string path = "/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6";
  auto disabled = readFileIfExists(path);
  std::string wanted = enabled ? "0" : "1";
  if (disabled && trimRight(*disabled) != wanted) writeFile(path, wanted);
}

std::vector<IpPrefix> prefixesOf(const std::vector<InterfaceAddress>& addresses) {
  std::vector<IpPrefix> prefixes;
  for (const auto& address : addresses) prefixes.push_back(address.prefix);
  return prefixes;
}

void convergeAddresses(RouteNetlink& netlink, int index, const std::vector<IpPrefix>& wanted) {
  auto changes = planAddressChanges(prefixesOf(netlink.addresses(index)), wanted);
  if (!changes.remove.empty()) {
    for (const auto& address : changes.remove) netlink.deleteAddress(index, address);
    // Deleting an IPv4 primary address deletes the secondary ones of its subnet too: look again.
    changes = planAddressChanges(prefixesOf(netlink.addresses(index)), wanted);
  }
  for (const auto& address : changes.add) netlink.addAddress(index, address);
}

void configureInterface(LinkControl& links, RouteNetlink& netlink,
                        const WantedInterface& interface) {
  const std::string& name = interface.request.name;
  links.setMtu(name, interface.request.mtu);
  setIpv6(name, interface.ipv6);  // before the addresses: a NIC without IPv6 refuses IPv6 ones
  links.bringUp(name);
  convergeAddresses(netlink, indexOf(name), interface.addresses);
}

void convergeRoutes(RouteNetlink& netlink, const std::vector<WantedRoute>& routes,
                    const std::vector<int>& nicIndexes) {
  std::vector<RouteEntry> wanted;
  for (const auto& route : routes) {
    withContext("route to " + quote(route.request.destination), [&] {
      wanted.push_back({route.destination, route.gateway, indexOf(route.request.device),
                        RTPROT_BOOT, RTN_UNICAST, 0});
    });
  }
  std::vector<RouteEntry> current = netlink.routes(AF_INET);
  for (auto& route : netlink.routes(AF_INET6)) current.push_back(std::move(route));
  RouteChanges changes = planRouteChanges(current, wanted, nicIndexes);
  for (const auto& route : changes.remove) {
    withContext("route to " + quote(toString(route.destination)),
                [&] { netlink.deleteRoute(route); });
  }
  for (std::size_t i : changes.add) {
    const WantedRoute& route = routes[i];
    withContext("route to " + quote(route.request.destination), [&] {
      // Another protocol's route to the same place (one the container added, say) wins.
      if (!netlink.addRoute(wanted[i].interfaceIndex, route.destination, route.gateway)) {
        log::debug("route to %s exists already", route.request.destination.c_str());
      }
    });
  }
}

}  // namespace

bool isValidInterfaceName(std::string_view name) {
  return !name.empty() && name.size() < IFNAMSIZ && name != "." && name != ".." &&
         std::none_of(name.begin(), name.end(), [](char c) {
           return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
         });
}

std::vector<Rename> planRenames(const std::vector<std::string>& current,
                                const std::vector<std::string>& wanted,
                                const std::vector<std::string>& leaving,
                                const std::vector<std::string>& others) {
  std::set<std::string> used(current.begin(), current.end());
  for (const auto* names : {&wanted, &leaving, &others}) used.insert(names->begin(), names->end());
  unsigned next = 0;
  auto temporary = [&] {
    std::string name;
    do name = "rvnic" + std::to_string(next++);
    while (used.count(name));
    used.insert(name);
    return name;
  };
  std::vector<Rename> first, second;
  for (const auto& name : leaving) {
    if (contains(wanted, name)) first.push_back({name, temporary()});
  }
  for (std::size_t i = 0; i < current.size() && i < wanted.size(); ++i) {
    if (current[i] == wanted[i]) continue;
    std::string name = temporary();
    first.push_back({current[i], name});
    second.push_back({name, wanted[i]});
  }
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

AddressChanges planAddressChanges(const std::vector<IpPrefix>& current,
                                  const std::vector<IpPrefix>& wanted) {
  auto in = [](const std::vector<IpPrefix>& list, const IpPrefix& prefix) {
    return std::find(list.begin(), list.end(), prefix) != list.end();
  };
  AddressChanges changes;
  for (const auto& prefix : current) {
    if (!isLinkLocalOrLoopback(prefix.address) && !in(wanted, prefix) &&
        !in(changes.remove, prefix)) {
      changes.remove.push_back(prefix);
    }
  }
  for (const auto& prefix : wanted) {
    if (!in(current, prefix) && !in(changes.add, prefix)) changes.add.push_back(prefix);
  }
  return changes;
}

RouteChanges planRouteChanges(const std::vector<RouteEntry>& current,
                              const std::vector<RouteEntry>& wanted,
                              const std::vector<int>& nicIndexes) {
  auto same = [](const RouteEntry& a, const RouteEntry& b) {
    return networkOf(a.destination) == networkOf(b.destination) && a.gateway == b.gateway &&
           a.interfaceIndex == b.interfaceIndex;
  };
  std::vector<RouteEntry> agents;
  for (const auto& route : current) {
    if (route.protocol == RTPROT_BOOT && route.type == RTN_UNICAST &&
        std::find(nicIndexes.begin(), nicIndexes.end(), route.interfaceIndex) != nicIndexes.end()) {
      agents.push_back(route);
    }
  }
  RouteChanges changes;
  for (const auto& route : agents) {
    if (std::none_of(wanted.begin(), wanted.end(),
                     [&](const RouteEntry& w) { return same(route, w); })) {
      changes.remove.push_back(route);
    }
  }
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    auto matches = [&](const RouteEntry& r) { return same(r, wanted[i]); };
    bool earlier =
        std::any_of(wanted.begin(), wanted.begin() + static_cast<std::ptrdiff_t>(i), matches);
    if (!earlier && std::none_of(agents.begin(), agents.end(), matches)) changes.add.push_back(i);
  }
  return changes;
}

void configureNetwork(const ConfigureNetwork& request, const std::string& sysfs) {
  std::vector<WantedInterface> interfaces;
  for (const auto& interface : request.interfaces) {
    withContext("interface " + quote(interface.name),
                [&] { interfaces.push_back(parseInterface(interface)); });
  }
  std::vector<WantedRoute> routes;
  for (const auto& route : request.routes) {
    withContext("route to " + quote(route.destination),
                [&] { routes.push_back(parseRoute(route)); });
  }

  // Which NIC is which: the requested ones by MAC, every other virtio NIC is leaving.
  std::vector<std::string> current, wanted;
  for (const auto& interface : request.interfaces) {
    std::string nic = findNic(sysfs, interface);
    for (std::size_t i = 0; i < current.size(); ++i) {
      if (current[i] == nic) {
        throw Error("interfaces " + quote(wanted[i]) + " and " + quote(interface.name) +
                    ": the same MAC");
      }
      if (wanted[i] == interface.name)
        throw Error("interface " + quote(interface.name) + " requested twice");
    }
    current.push_back(nic);
    wanted.push_back(interface.name);
  }
  std::vector<LeavingNic> leaving;
  std::vector<std::string> leavingNames;
  for (const auto& nic : virtioNics(sysfs)) {
    if (contains(current, nic.name)) continue;
    leaving.push_back({nic.name, hotplugSlotOfNic(sysfs, nic.name)});
    leavingNames.push_back(nic.name);
  }
  std::vector<std::string> others;
  for (const auto& name : linkNames()) {
    if (contains(current, name) || contains(leavingNames, name)) continue;
    if (contains(wanted, name)) {
      throw Error("interface " + quote(name) +
                  ": the name is taken by a link that is not a NIC of runvirt's");
    }
    others.push_back(name);
  }

  LinkControl links;
  RouteNetlink netlink;
  // Leaving NICs stop carrying traffic before anything else changes. A NIC that is up cannot
  // be renamed (EBUSY on the guest's 6.1 kernel): the renamed ones go down first.
  for (const auto& nic : leaving) onLeavingNic(nic.name, [&] { links.takeDown(nic.name); });
  for (std::size_t i = 0; i < current.size(); ++i) {
    if (current[i] != wanted[i])
      withContext("interface " + quote(wanted[i]), [&] { links.takeDown(current[i]); });
  }
  for (const auto& rename : planRenames(current, wanted, leavingNames, others)) {
    auto parked = std::find_if(leaving.begin(), leaving.end(),
                               [&](const LeavingNic& nic) { return nic.name == rename.from; });
    if (parked == leaving.end()) {
      links.rename(rename.from, rename.to);
      continue;
    }
    onLeavingNic(rename.from, [&] { links.rename(rename.from, rename.to); });
    parked->name = rename.to;
  }
  for (const auto& nic : leaving) retire(links, netlink, nic);

  std::vector<int> nicIndexes;
  for (const auto& interface : interfaces) {
    withContext("interface " + quote(interface.request.name),
                [&] { configureInterface(links, netlink, interface); });
    nicIndexes.push_back(indexOf(interface.request.name));
  }
  for (const auto& nic : leaving) {
    if (unsigned index = if_nametoindex(nic.name.c_str()))
      nicIndexes.push_back(static_cast<int>(index));
  }
  convergeRoutes(netlink, routes, nicIndexes);
  // The NIC reports "running" (operstate up) only when the kernel's link watcher next runs,
  // up to a second later (rate-limited after the probe at boot); traffic flows before that.
  // Waiting for it would cost that second on every start.
}

}  // namespace runvirt::agent

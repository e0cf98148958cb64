#include "network.hpp"

#include <dirent.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "file_util.hpp"
#include "ip_address.hpp"
#include "log.hpp"
#include "route_netlink.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"

namespace runvirt::agent {

namespace {

// virtio_net registers its NICs while its module loads, before the agent says hello; the
// wait only covers a slow probe.
constexpr auto kNicWait = std::chrono::seconds(3);

std::optional<std::string> nicWithMac(const std::string& mac) {
  DIR* dir = ::opendir("/sys/class/net");
  if (!dir) throwErrno("open /sys/class/net");
  std::optional<std::string> found;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    auto address = readFileIfExists(std::string("/sys/class/net/") + entry->d_name + "/address");
    if (address && sameMac(trimRight(*address), mac)) found = entry->d_name;
  }
  ::closedir(dir);
  return found;
}

std::string findNic(const Interface& interface) {
  auto deadline = std::chrono::steady_clock::now() + kNicWait;
  for (;;) {
    if (auto name = nicWithMac(interface.mac)) return *name;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error("interface " + quote(interface.name) + ": no NIC with MAC " + quote(interface.mac));
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
    if (::ioctl(sock_.get(), SIOCSIFNAME, &req) != 0) throwErrno("rename " + quote(from) + " to " + quote(to));
  }
  void setMtu(const std::string& name, std::uint32_t mtu) {
    ifreq req = request(name);
    req.ifr_mtu = static_cast<int>(mtu);
    if (::ioctl(sock_.get(), SIOCSIFMTU, &req) != 0) {
      throwErrno("set the MTU of " + quote(name) + " to " + std::to_string(mtu));
    }
  }
  void bringUp(const std::string& name) {
    ifreq req = request(name);
    if (::ioctl(sock_.get(), SIOCGIFFLAGS, &req) != 0) throwErrno("get flags of " + quote(name));
    req.ifr_flags |= IFF_UP;
    if (::ioctl(sock_.get(), SIOCSIFFLAGS, &req) != 0) throwErrno("bring " + quote(name) + " up");
  }

 private:
  static ifreq request(const std::string& name) {
    if (name.empty() || name.size() >= IFNAMSIZ) throw Error("invalid interface name " + quote(name));
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

bool hasIpv6Address(const Interface& interface) {
  return std::any_of(interface.addresses.begin(), interface.addresses.end(),
                     [](const std::string& a) { return a.find(':') != std::string::npos; });
}

// As under runc, where Docker turns IPv6 off on an interface without an IPv6 address: no
// link-local address, no router solicitations.
void disableIpv6(const std::string& name) {
  std::string path = "/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6";
  if (readFileIfExists(path)) writeFile(path, "1");
}

void configureInterface(LinkControl& links, RouteNetlink& netlink, const Interface& interface) {
  links.setMtu(interface.name, interface.mtu);
  if (!hasIpv6Address(interface)) disableIpv6(interface.name);
  links.bringUp(interface.name);
  int index = indexOf(interface.name);
  for (const auto& address : interface.addresses) netlink.addAddress(index, parseIpPrefix(address));
}

void addRoute(RouteNetlink& netlink, const Route& route) {
  IpPrefix destination = routeDestination(route);
  std::optional<IpAddress> gateway;
  if (!route.gateway.empty()) gateway = parseIpAddress(route.gateway);
  if (gateway && gateway->family != destination.address.family) throw Error("gateway of another address family");
  if (!netlink.addRoute(indexOf(route.device), destination, gateway)) {
    log::debug("route to %s exists already", route.destination.c_str());
  }
}

}  // namespace

std::vector<Rename> planRenames(const std::vector<std::string>& current, const std::vector<std::string>& wanted) {
  std::vector<Rename> first, second;
  for (std::size_t i = 0; i < current.size() && i < wanted.size(); ++i) {
    if (current[i] == wanted[i]) continue;
    std::string temporary = "rvnic" + std::to_string(i);
    first.push_back({current[i], temporary});
    second.push_back({temporary, wanted[i]});
  }
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

void configureNetwork(const ConfigureNetwork& request) {
  std::vector<std::string> current, wanted;
  for (const auto& interface : request.interfaces) {
    current.push_back(findNic(interface));
    wanted.push_back(interface.name);
  }
  LinkControl links;
  for (const auto& rename : planRenames(current, wanted)) links.rename(rename.from, rename.to);
  RouteNetlink netlink;
  for (const auto& interface : request.interfaces) {
    withContext("interface " + quote(interface.name), [&] { configureInterface(links, netlink, interface); });
  }
  for (const auto& route : request.routes) {
    withContext("route to " + quote(route.destination), [&] { addRoute(netlink, route); });
  }
  // The NIC reports "running" (operstate up) only when the kernel's link watcher next runs,
  // up to a second later (rate-limited after the probe at boot); traffic flows before that.
  // Waiting for it would cost that second on every start.
}

}  // namespace runvirt::agent

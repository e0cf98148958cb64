// guest/agent/network.cpp: configureNetwork() converging on request after request, against the
// host kernel. Veths in a throwaway network namespace play the guest's NICs; a fake sysfs tree
// says which of them are virtio_net NICs and where their hot-plug slots are.
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "network.hpp"
#include "unit/netns_util.hpp"
#include "unit/test_util.hpp"

namespace runvirt::agent {
namespace {

constexpr const char* kMacA = "02:00:00:00:00:0a";
constexpr const char* kMacB = "02:00:00:00:00:0b";
constexpr const char* kMacC = "02:00:00:00:00:0c";
// Where the fake NICs sit: A and C in hot-plug slots behind root ports, B on the root bus.
constexpr const char* kDeviceA = "devices/pci0000:00/0000:00:1c.0/0000:01:00.0/virtio1";
constexpr const char* kDeviceB = "devices/pci0000:00/0000:00:03.0/virtio0";
constexpr const char* kDeviceC = "devices/pci0000:00/0000:00:1c.1/0000:02:00.0/virtio2";

std::string nameOf(int index) {
  char name[IF_NAMESIZE] = "";
  return if_indextoname(static_cast<unsigned>(index), name) ? name : "";
}

struct FakeNic {
  int index;
  std::string mac;
  std::string device;
};

// Rewrites <sysfs>/class/net for the NICs under their current names (a real sysfs follows
// renames by itself).
void describeNics(const std::string& sysfs, const std::vector<FakeNic>& nics) {
  namespace fs = std::filesystem;
  fs::remove_all(sysfs + "/class/net");
  fs::create_directories(sysfs + "/bus/virtio/drivers/virtio_net");
  for (const auto& nic : nics) {
    std::string link = sysfs + "/class/net/" + nameOf(nic.index), device = sysfs + "/" + nic.device;
    test::writeFile(link + "/address", nic.mac + "\n");
    fs::create_directories(device);
    if (!fs::is_symlink(device + "/driver")) {
      fs::create_directory_symlink(sysfs + "/bus/virtio/drivers/virtio_net", device + "/driver");
    }
    fs::create_directory_symlink(device, link + "/device");
  }
}

void fakeSlot(const std::string& sysfs, const std::string& slot, const std::string& address) {
  test::writeFile(sysfs + "/bus/pci/slots/" + slot + "/address", address + "\n");
  test::writeFile(sysfs + "/bus/pci/slots/" + slot + "/power", "1\n");
}

// A veth standing for a NIC (down, as a NIC the kernel just probed), its peer up so that it
// gets a carrier once up.
bool makeNic(const std::string& name, const std::string& mac, const std::string& peer) {
  return test::runProgram({"ip", "link", "add", "name", name, "address", mac, "type", "veth",
                           "peer", "name", peer}) == 0 &&
         test::runProgram({"ip", "link", "set", peer, "up"}) == 0;
}

int indexOf(const std::string& name) { return static_cast<int>(if_nametoindex(name.c_str())); }

ifreq linkRequest(const std::string& name, unsigned long what) {
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || ioctl(sock, what, &req) != 0) req = ifreq{};
  if (sock >= 0) close(sock);
  return req;
}

bool isUp(const std::string& name) { return linkRequest(name, SIOCGIFFLAGS).ifr_flags & IFF_UP; }
int mtuOf(const std::string& name) { return linkRequest(name, SIOCGIFMTU).ifr_mtu; }

std::string ipv6Disabled(const std::string& name) {
  return test::readFile("/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6");
}

// The link's addresses but the IPv6 link-local one.
std::set<std::string> addressesOf(RouteNetlink& netlink, const std::string& name) {
  std::set<std::string> out;
  for (const auto& a : netlink.addresses(indexOf(name))) {
    if (!isLinkLocalOrLoopback(a.prefix.address)) out.insert(toString(a.prefix));
  }
  return out;
}

// The RTPROT_BOOT routes, "DESTINATION [via GATEWAY] dev NAME".
std::set<std::string> bootRoutes(RouteNetlink& netlink) {
  std::set<std::string> out;
  for (int family : {AF_INET, AF_INET6}) {
    for (const auto& r : netlink.routes(family)) {
      if (r.protocol != RTPROT_BOOT) continue;
      out.insert(toString(r.destination) + (r.gateway ? " via " + toString(*r.gateway) : "") +
                 " dev " + nameOf(r.interfaceIndex));
    }
  }
  return out;
}

std::string show(const std::set<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return "{" + text + "}";
}

void expectSet(test::ChildChecks& check, const std::set<std::string>& actual,
               const std::set<std::string>& expected, const std::string& what) {
  check.expect(actual == expected, what + ": " + show(actual) + ", expected " + show(expected));
}

TEST(NetworkConverge, RequestAfterRequest) {
  test::TempDir sysfs;
  int result = test::inThrowawayNetworkNamespace([&] {
    test::ChildChecks check;
    if (!check.expect(makeNic("eth0", kMacA, "pa") && makeNic("eth1", kMacB, "pb"),
                      "create veths with `ip`")) {
      return check.failures();
    }
    // A link of the container's own, with a route `ip route add` made (RTPROT_BOOT, as the
    // agent's).
    check.expect(test::runProgram({"ip", "address", "add", "10.77.0.1/24", "dev", "pa"}) == 0 &&
                     test::runProgram({"ip", "route", "add", "10.78.0.0/16", "via", "10.77.0.2",
                                       "dev", "pa"}) == 0,
                 "the container's own route");
    int indexA = indexOf("eth0"), indexB = indexOf("eth1");
    std::vector<FakeNic> nics = {{indexA, kMacA, kDeviceA}, {indexB, kMacB, kDeviceB}};
    auto configure = [&](const ConfigureNetwork& request) {
      describeNics(sysfs.path(), nics);
      configureNetwork(request, sysfs.path());
    };
    fakeSlot(sysfs.path(), "0", "0000:00:1c");
    fakeSlot(sysfs.path(), "1", "0000:01:00");
    fakeSlot(sysfs.path(), "2", "0000:02:00");
    RouteNetlink netlink;
    const std::string theContainersRoute = "10.78.0.0/16 via 10.77.0.2 dev pa";

    // At start: the names swap, IPv6 only where there is an IPv6 address.
    ConfigureNetwork first{{{"eth1", kMacA, 1400, {"10.1.0.2/24", "fd00:1::2/64"}},
                            {"eth0", kMacB, 1500, {"10.2.0.2/24"}}},
                           {{"10.50.0.0/16", "10.1.0.1", "eth1"},
                            {"default", "10.2.0.1", "eth0"},
                            {"fd00:99::/64", "fd00:1::1", "eth1"}},
                           false};
    for (int round = 0; round < 2; ++round) {  // the second time changes nothing
      configure(first);
      std::string when = round == 0 ? "first request: " : "first request again: ";
      check.expect(nameOf(indexA) == "eth1" && nameOf(indexB) == "eth0", when + "names swapped");
      check.expect(isUp("eth0") && isUp("eth1"), when + "up");
      check.expect(mtuOf("eth1") == 1400 && mtuOf("eth0") == 1500, when + "MTUs");
      expectSet(check, addressesOf(netlink, "eth1"), {"10.1.0.2/24", "fd00:1::2/64"},
                when + "eth1's addresses");
      expectSet(check, addressesOf(netlink, "eth0"), {"10.2.0.2/24"}, when + "eth0's addresses");
      check.expect(ipv6Disabled("eth0") == "1\n" && ipv6Disabled("eth1") == "0\n",
                   when + "IPv6 on eth1 only");
      expectSet(check, bootRoutes(netlink),
                {"10.50.0.0/16 via 10.1.0.1 dev eth1", "0.0.0.0/0 via 10.2.0.1 dev eth0",
                 "fd00:99::/64 via fd00:1::1 dev eth1", theContainersRoute},
                when + "routes");
    }

    // Requests that cannot be met change nothing.
    ConfigureNetwork malformed = first;
    malformed.interfaces[1].addresses = {"10.2.0.9/24", "10.2.0.10"};
    check.expect(test::contains(test::errorOf([&] { configure(malformed); }),
                                "interface `eth0`: invalid prefix `10.2.0.10`"),
                 "a malformed address is refused");
    ConfigureNetwork badName = first;
    badName.interfaces[1].name = "../all";
    check.expect(test::contains(test::errorOf([&] { configure(badName); }),
                                "interface `../all`: invalid name"),
                 "a name that is no link name is refused");
    ConfigureNetwork taken = first;
    taken.interfaces[1].name = "pa";
    check.expect(test::contains(test::errorOf([&] { configure(taken); }),
                                "interface `pa`: the name is taken"),
                 "a name of the container's own link is refused");
    ConfigureNetwork twice = first;
    twice.interfaces[1].name = "eth1";
    check.expect(test::contains(test::errorOf([&] { configure(twice); }), "requested twice"),
                 "a name requested twice is refused");
    expectSet(check, addressesOf(netlink, "eth0"), {"10.2.0.2/24"},
              "after the refusals: eth0's addresses");

    // `network disconnect` of eth1, and eth0's addresses change: eth1 leaves through its slot.
    ConfigureNetwork second{{{"eth0", kMacB, 1500, {"10.2.0.3/24", "fd00:2::3/64"}}},
                            {{"default", "10.2.0.1", "eth0"}, {"default", "fd00:2::1", "eth0"}},
                            false};
    configure(second);
    check.expect(nameOf(indexA) == "eth1" && !isUp("eth1"), "second request: eth1 down");
    expectSet(check, addressesOf(netlink, "eth1"), {}, "second request: eth1's addresses");
    check.expect(test::readFile(sysfs / "bus/pci/slots/1/power") == "0",
                 "second request: eth1's slot off");
    check.expect(test::readFile(sysfs / "bus/pci/slots/0/power") == "1\n",
                 "second request: the root port's slot on");
    expectSet(check, addressesOf(netlink, "eth0"), {"10.2.0.3/24", "fd00:2::3/64"},
              "second request: eth0's addresses");
    check.expect(ipv6Disabled("eth0") == "0\n", "second request: IPv6 on eth0");
    expectSet(
        check, bootRoutes(netlink),
        {"0.0.0.0/0 via 10.2.0.1 dev eth0", "::/0 via fd00:2::1 dev eth0", theContainersRoute},
        "second request: routes");
    check.expect(isUp("pa"), "the container's own link stays up");
    expectSet(check, addressesOf(netlink, "pa"), {"10.77.0.1/24"},
              "the container's own link keeps its address");

    // `network connect`: a new NIC (eth2 to the kernel) is to be eth1 while the old eth1 is
    // still there (powering its fake slot off removed nothing).
    check.expect(makeNic("eth2", kMacC, "pc"), "create a third veth");
    int indexC = indexOf("eth2");
    nics.push_back({indexC, kMacC, kDeviceC});
    ConfigureNetwork third{{{"eth0", kMacB, 1500, {"10.2.0.3/24", "fd00:2::3/64"}},
                            {"eth1", kMacC, 1500, {"10.3.0.2/24"}}},
                           {{"10.60.0.0/16", "10.3.0.1", "eth1"}, {"default", "10.2.0.1", "eth0"}},
                           false};
    configure(third);
    check.expect(nameOf(indexC) == "eth1" && isUp("eth1"), "third request: the new NIC is eth1");
    check.expect(nameOf(indexA).rfind("rvnic", 0) == 0 && !isUp(nameOf(indexA)),
                 "third request: the old eth1 is parked, down: " + nameOf(indexA));
    check.expect(nameOf(indexB) == "eth0", "third request: eth0 stays");
    check.expect(test::readFile(sysfs / "bus/pci/slots/2/power") == "1\n",
                 "third request: the new NIC's slot on");
    expectSet(check, addressesOf(netlink, "eth1"), {"10.3.0.2/24"},
              "third request: the new eth1's addresses");
    expectSet(check, bootRoutes(netlink),
              {"10.60.0.0/16 via 10.3.0.1 dev eth1", "0.0.0.0/0 via 10.2.0.1 dev eth0",
               theContainersRoute},
              "third request: routes");
    return check.failures();
  });
  if (result == 77) GTEST_SKIP() << "no privilege to create a network namespace";
  EXPECT_EQ(result, 0) << "failed checks or an error in the child: see its stderr above";
}

}  // namespace
}  // namespace runvirt::agent

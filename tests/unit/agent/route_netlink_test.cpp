// guest/agent/route_netlink.cpp against the host kernel: addresses and routes added, listed and
// deleted on a veth pair in a throwaway network namespace of a child process.
#include "route_netlink.hpp"

#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "unit/netns_util.hpp"

namespace runvirt::agent {
namespace {

// A veth pair, both ends up (IPv6 wants a carrier); false when `ip` failed.
bool makeVeth(const std::string& name, const std::string& peer) {
  return test::runProgram(
             {"ip", "link", "add", "name", name, "type", "veth", "peer", "name", peer}) == 0 &&
         test::runProgram({"ip", "link", "set", name, "up"}) == 0 &&
         test::runProgram({"ip", "link", "set", peer, "up"}) == 0;
}

const InterfaceAddress* findAddress(const std::vector<InterfaceAddress>& list,
                                    const std::string& prefix) {
  for (const auto& a : list) {
    if (toString(a.prefix) == prefix) return &a;
  }
  return nullptr;
}

const RouteEntry* findRoute(const std::vector<RouteEntry>& list, const std::string& destination,
                            const std::string& gateway, int device) {
  for (const auto& r : list) {
    if (toString(r.destination) == destination &&
        (r.gateway ? toString(*r.gateway) : "") == gateway && r.interfaceIndex == device) {
      return &r;
    }
  }
  return nullptr;
}

void expectPassed(int result) {
  if (result == 77) GTEST_SKIP() << "no privilege to create a network namespace";
  EXPECT_EQ(result, 0) << "failed checks or an error in the child: see its stderr above";
}

TEST(RouteNetlink, AddsListsAndDeletesAddresses) {
  expectPassed(test::inThrowawayNetworkNamespace([] {
    test::ChildChecks check;
    if (!check.expect(makeVeth("rvt0", "rvt1"), "create a veth pair with `ip`"))
      return check.failures();
    int index = static_cast<int>(if_nametoindex("rvt0")),
        peer = static_cast<int>(if_nametoindex("rvt1"));
    RouteNetlink netlink;
    netlink.addAddress(index, parseIpPrefix("10.1.0.2/24"));
    netlink.addAddress(index, parseIpPrefix("10.1.0.3/24"));
    netlink.addAddress(index, parseIpPrefix("fd00::2/64"));
    netlink.addAddress(peer, parseIpPrefix("10.1.0.1/24"));

    auto listed = netlink.addresses(index);
    const InterfaceAddress* primary = findAddress(listed, "10.1.0.2/24");
    const InterfaceAddress* secondary = findAddress(listed, "10.1.0.3/24");
    const InterfaceAddress* v6 = findAddress(listed, "fd00::2/64");
    check.expect(
        primary && primary->scope == RT_SCOPE_UNIVERSE && !(primary->flags & IFA_F_SECONDARY),
        "10.1.0.2/24 listed, primary");
    check.expect(secondary && (secondary->flags & IFA_F_SECONDARY),
                 "10.1.0.3/24 listed, secondary");
    check.expect(v6 && (v6->flags & IFA_F_NODAD) && (v6->flags & IFA_F_PERMANENT),
                 "fd00::2/64 listed, no DAD");
    check.expect(!findAddress(listed, "10.1.0.1/24"), "the peer's address is not listed");
    for (const auto& a : listed) {
      check.expect(a.prefix.address.family == AF_INET || a.prefix.address.family == AF_INET6,
                   "families");
    }

    check.expect(netlink.deleteAddress(index, parseIpPrefix("10.1.0.3/24")), "delete 10.1.0.3/24");
    check.expect(!netlink.deleteAddress(index, parseIpPrefix("10.1.0.3/24")),
                 "10.1.0.3/24 is gone already");
    check.expect(!netlink.deleteAddress(index, parseIpPrefix("10.1.0.2/16")),
                 "another length is another address");
    check.expect(netlink.deleteAddress(index, parseIpPrefix("fd00::2/64")), "delete fd00::2/64");
    listed = netlink.addresses(index);
    check.expect(findAddress(listed, "10.1.0.2/24") && !findAddress(listed, "10.1.0.3/24") &&
                     !findAddress(listed, "fd00::2/64"),
                 "only 10.1.0.2/24 is left of the three");
    check.expect(findAddress(netlink.addresses(peer), "10.1.0.1/24"), "the peer keeps its address");
    return check.failures();
  }));
}

TEST(RouteNetlink, AddsListsAndDeletesRoutes) {
  expectPassed(test::inThrowawayNetworkNamespace([] {
    test::ChildChecks check;
    if (!check.expect(makeVeth("rvt0", "rvt1"), "create a veth pair with `ip`"))
      return check.failures();
    int index = static_cast<int>(if_nametoindex("rvt0"));
    RouteNetlink netlink;
    netlink.addAddress(index, parseIpPrefix("10.1.0.2/24"));
    netlink.addAddress(index, parseIpPrefix("fd00::2/64"));
    check.expect(netlink.addRoute(index, parseIpPrefix("10.2.0.0/16"), parseIpAddress("10.1.0.1")),
                 "add via");
    check.expect(!netlink.addRoute(index, parseIpPrefix("10.2.0.0/16"), parseIpAddress("10.1.0.1")),
                 "exists");
    check.expect(netlink.addRoute(index, parseIpPrefix("10.3.0.0/16"), std::nullopt),
                 "add directly connected");
    check.expect(netlink.addRoute(index, IpPrefix{}, parseIpAddress("10.1.0.1")), "add default");
    check.expect(netlink.addRoute(index, parseIpPrefix("fd01::/64"), parseIpAddress("fd00::1")),
                 "add IPv6 via");

    auto v4 = netlink.routes(AF_INET);
    const RouteEntry* via = findRoute(v4, "10.2.0.0/16", "10.1.0.1", index);
    const RouteEntry* direct = findRoute(v4, "10.3.0.0/16", "", index);
    const RouteEntry* subnet = findRoute(v4, "10.1.0.0/24", "", index);
    check.expect(via && via->protocol == RTPROT_BOOT && via->type == RTN_UNICAST,
                 "10.2.0.0/16 via 10.1.0.1 listed");
    check.expect(direct && direct->protocol == RTPROT_BOOT, "10.3.0.0/16 listed");
    check.expect(findRoute(v4, "0.0.0.0/0", "10.1.0.1", index), "the default route listed");
    check.expect(subnet && subnet->protocol == RTPROT_KERNEL,
                 "the address's subnet listed as the kernel's");
    check.expect(!findRoute(v4, "10.1.0.2/32", "", index), "the local table is not listed");
    for (const auto& r : v4)
      check.expect(r.destination.address.family == AF_INET, "only IPv4 routes");
    auto v6 = netlink.routes(AF_INET6);
    const RouteEntry* via6 = findRoute(v6, "fd01::/64", "fd00::1", index);
    check.expect(via6 && via6->protocol == RTPROT_BOOT && via6->priority == 1024,
                 "fd01::/64 via fd00::1 listed");
    for (const auto& r : v6)
      check.expect(r.destination.address.family == AF_INET6, "only IPv6 routes");

    if (!via || !via6 || !subnet) return check.failures();
    // Deleting takes the protocol into account: the kernel's route is not the agent's.
    RouteEntry notOurs = *subnet;
    notOurs.protocol = RTPROT_BOOT;
    check.expect(!netlink.deleteRoute(notOurs), "a kernel route is not deleted as a boot one");
    check.expect(netlink.deleteRoute(*via), "delete 10.2.0.0/16");
    check.expect(!netlink.deleteRoute(*via), "10.2.0.0/16 is gone already");
    check.expect(netlink.deleteRoute(*via6), "delete fd01::/64");
    v4 = netlink.routes(AF_INET);
    check.expect(!findRoute(v4, "10.2.0.0/16", "10.1.0.1", index), "10.2.0.0/16 gone");
    check.expect(findRoute(v4, "10.3.0.0/16", "", index) && findRoute(v4, "10.1.0.0/24", "", index),
                 "others stay");
    check.expect(!findRoute(netlink.routes(AF_INET6), "fd01::/64", "fd00::1", index),
                 "fd01::/64 gone");
    return check.failures();
  }));
}

TEST(RouteNetlink, ReadsAManyPartDumpWhole) {
  expectPassed(test::inThrowawayNetworkNamespace([] {
    test::ChildChecks check;
    if (!check.expect(makeVeth("rvt0", "rvt1"), "create a veth pair with `ip`"))
      return check.failures();
    int index = static_cast<int>(if_nametoindex("rvt0"));
    RouteNetlink netlink;
    netlink.addAddress(index, parseIpPrefix("10.1.0.2/24"));
    // About 100 bytes a route: some 300 KB, ten times what one datagram holds.
    constexpr int kRoutes = 3000;
    for (int i = 0; i < kRoutes; ++i) {
      std::string destination =
          "10.100." + std::to_string(i / 250) + "." + std::to_string(i % 250) + "/32";
      netlink.addRoute(index, parseIpPrefix(destination), std::nullopt);
    }
    int boot = 0;
    for (const auto& r : netlink.routes(AF_INET)) boot += r.protocol == RTPROT_BOOT;
    check.expect(boot == kRoutes,
                 "all " + std::to_string(kRoutes) + " routes listed, not " + std::to_string(boot));
    // The socket is still in step: a change after the dump is answered as usual.
    check.expect(netlink.addRoute(index, parseIpPrefix("10.200.0.0/16"), std::nullopt),
                 "add after the dump");
    return check.failures();
  }));
}

}  // namespace
}  // namespace runvirt::agent

// guest/agent/network.cpp: the plans that converge the guest's network on a configure_network
// request: renames, addresses, routes.
#include "network.hpp"

#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

#include <map>
#include <set>

namespace runvirt::agent {
namespace {

// Applies the renames to a set of names, failing on a clash as the kernel would.
std::vector<std::string> applyRenames(std::vector<std::string> names,
                                      const std::vector<Rename>& renames) {
  for (const auto& r : renames) {
    auto from = std::find(names.begin(), names.end(), r.from);
    EXPECT_NE(from, names.end()) << "no " << r.from;
    EXPECT_EQ(std::find(names.begin(), names.end(), r.to), names.end()) << r.to << " is taken";
    if (from != names.end()) *from = r.to;
  }
  return names;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(NetworkNames, TheKernelsRules) {
  for (const char* good : {"eth0", "e", "backend-net_1.2", "abcdefghijklmno"}) {
    EXPECT_TRUE(isValidInterfaceName(good)) << good;
  }
  for (const char* bad :
       {"", ".", "..", "abcdefghijklmnop", "eth/0", "../all", "eth0:1", "eth 0", "eth0\n"}) {
    EXPECT_FALSE(isValidInterfaceName(bad)) << bad;
  }
}

TEST(NetworkRenames, NothingToDoWhenNamesMatch) {
  EXPECT_TRUE(planRenames({"eth0"}, {"eth0"}).empty());
  EXPECT_TRUE(planRenames({"eth0"}, {"eth0"}, {"eth1"}, {"lo"}).empty());
}

TEST(NetworkRenames, SwappedNamesGoThroughTemporaryOnes) {
  std::vector<std::string> current = {"eth1", "eth0"}, wanted = {"eth0", "eth1"};
  auto renames = planRenames(current, wanted);
  EXPECT_EQ(renames.size(), 4u);
  EXPECT_EQ(applyRenames(current, renames), wanted);
}

TEST(NetworkRenames, OnlyTheOnesThatDifferMove) {
  std::vector<std::string> current = {"eth0", "eth1", "eth2"},
                           wanted = {"eth0", "backend", "frontend"};
  auto renames = planRenames(current, wanted);
  EXPECT_EQ(renames.size(), 4u);
  EXPECT_EQ(applyRenames(current, renames), wanted);
  for (const auto& r : renames) EXPECT_NE(r.from, "eth0");
}

TEST(NetworkRenames, ALeavingNicMakesWayForAWantedName) {
  // `network disconnect` of eth1, then `network connect`: the new NIC (eth2 to the kernel) is to
  // be eth1 while the old one is still being unplugged.
  std::vector<std::string> current = {"eth0", "eth2"}, wanted = {"eth0", "eth1"},
                           leaving = {"eth1", "eth3"};
  auto renames = planRenames(current, wanted, leaving, {"lo"});
  auto after = applyRenames(concat(concat(current, leaving), {"lo"}), renames);
  EXPECT_EQ(after[0], "eth0");
  EXPECT_EQ(after[1], "eth1");
  EXPECT_EQ(after[2].rfind("rvnic", 0), 0u) << after[2];  // parked for good
  EXPECT_EQ(after[3], "eth3");                            // in nobody's way: stays
  EXPECT_EQ(after[4], "lo");
}

TEST(NetworkRenames, TemporaryNamesAvoidEveryNameInUse) {
  // A NIC left with a temporary name by an earlier request that failed half-way, and a link of
  // the container that happens to be called like one.
  std::vector<std::string> current = {"rvnic1", "eth0"}, wanted = {"eth0", "eth1"},
                           others = {"rvnic0", "lo"};
  auto renames = planRenames(current, wanted, {}, others);
  auto after = applyRenames(concat(current, others), renames);
  EXPECT_EQ(after, concat(wanted, others));
  for (const auto& r : renames) {
    EXPECT_NE(r.to, "rvnic0");
    EXPECT_NE(r.to, "rvnic1");
  }
}

std::vector<IpPrefix> prefixes(const std::vector<std::string>& texts) {
  std::vector<IpPrefix> out;
  for (const auto& text : texts) out.push_back(parseIpPrefix(text));
  return out;
}

std::set<std::string> texts(const std::vector<IpPrefix>& list) {
  std::set<std::string> out;
  for (const auto& prefix : list) out.insert(toString(prefix));
  return out;
}

TEST(NetworkAddresses, NothingToDoWhenTheyMatch) {
  auto changes =
      planAddressChanges(prefixes({"172.17.0.2/16", "fd00::2/64", "fe80::42:acff:fe11:2/64"}),
                         prefixes({"fd00::2/64", "172.17.0.2/16"}));
  EXPECT_TRUE(changes.remove.empty());
  EXPECT_TRUE(changes.add.empty());
}

TEST(NetworkAddresses, ExtraOnesGoMissingOnesCome) {
  auto changes = planAddressChanges(prefixes({"172.17.0.2/16", "10.0.0.5/8", "fd00::2/64"}),
                                    prefixes({"172.17.0.2/16", "192.168.1.2/24", "fd01::2/64"}));
  EXPECT_EQ(texts(changes.remove), (std::set<std::string>{"10.0.0.5/8", "fd00::2/64"}));
  EXPECT_EQ(texts(changes.add), (std::set<std::string>{"192.168.1.2/24", "fd01::2/64"}));
}

TEST(NetworkAddresses, AnotherPrefixLengthIsAnotherAddress) {
  auto changes = planAddressChanges(prefixes({"172.17.0.2/16"}), prefixes({"172.17.0.2/24"}));
  EXPECT_EQ(texts(changes.remove), std::set<std::string>{"172.17.0.2/16"});
  EXPECT_EQ(texts(changes.add), std::set<std::string>{"172.17.0.2/24"});
}

TEST(NetworkAddresses, LinkLocalAndLoopbackStay) {
  auto changes =
      planAddressChanges(prefixes({"fe80::1/64", "127.0.0.1/8", "::1/128", "fd00::2/64"}), {});
  EXPECT_EQ(texts(changes.remove), std::set<std::string>{"fd00::2/64"});
  EXPECT_TRUE(changes.add.empty());
}

TEST(NetworkAddresses, DuplicatesCountOnce) {
  auto changes = planAddressChanges(prefixes({"10.0.0.5/8", "10.0.0.5/8"}),
                                    prefixes({"10.0.0.6/8", "10.0.0.6/8"}));
  EXPECT_EQ(changes.remove.size(), 1u);
  EXPECT_EQ(changes.add.size(), 1u);
}

RouteEntry route(const std::string& destination, const std::string& gateway, int device,
                 std::uint8_t protocol = RTPROT_BOOT, std::uint8_t type = RTN_UNICAST) {
  RouteEntry r;
  r.destination = destination == "default" ? IpPrefix{} : parseIpPrefix(destination);
  if (!gateway.empty()) r.gateway = parseIpAddress(gateway);
  if (destination == "default" && r.gateway) r.destination.address.family = r.gateway->family;
  r.interfaceIndex = device;
  r.protocol = protocol;
  r.type = type;
  return r;
}

std::set<std::string> described(const std::vector<RouteEntry>& routes) {
  std::set<std::string> out;
  for (const auto& r : routes) {
    out.insert(toString(r.destination) + (r.gateway ? " via " + toString(*r.gateway) : "") +
               " dev " + std::to_string(r.interfaceIndex));
  }
  return out;
}

TEST(NetworkRoutes, NothingToDoWhenTheyMatch) {
  std::vector<RouteEntry> current = {
      route("172.17.0.0/16", "", 2, RTPROT_KERNEL), route("default", "172.17.0.1", 2),
      route("fd00::/64", "", 2, RTPROT_KERNEL), route("default", "fd00::1", 2)};
  std::vector<RouteEntry> wanted = {route("default", "172.17.0.1", 2),
                                    route("default", "fd00::1", 2)};
  auto changes = planRouteChanges(current, wanted, {2});
  EXPECT_TRUE(changes.remove.empty());
  EXPECT_TRUE(changes.add.empty());
}

TEST(NetworkRoutes, StaleOnesGoMissingOnesComeInOrder) {
  std::vector<RouteEntry> current = {route("default", "172.17.0.1", 2),
                                     route("10.10.0.0/16", "172.17.0.1", 2),
                                     route("10.20.0.0/16", "", 3)};
  std::vector<RouteEntry> wanted = {
      route("10.30.0.0/16", "", 3), route("10.10.0.0/16", "172.17.0.1", 2),
      route("10.40.0.0/16", "10.30.0.1", 3), route("default", "172.18.0.1", 3)};
  auto changes = planRouteChanges(current, wanted, {2, 3});
  EXPECT_EQ(described(changes.remove),
            (std::set<std::string>{"0.0.0.0/0 via 172.17.0.1 dev 2", "10.20.0.0/16 dev 3"}));
  EXPECT_EQ(changes.add, (std::vector<std::size_t>{0, 2, 3}));
}

TEST(NetworkRoutes, OnlyTheAgentsRoutesGo) {
  std::vector<RouteEntry> current = {
      route("172.17.0.0/16", "", 2, RTPROT_KERNEL),  // an address's subnet
      route("10.1.0.0/16", "", 2, RTPROT_STATIC),    // `ip route add ... proto static`
      route("10.2.0.0/16", "", 9),                   // through a tunnel of the container
      route("10.3.0.0/16", "", 0),                   // multipath: no single device
      route("10.4.0.0/16", "", 2, RTPROT_BOOT, RTN_BLACKHOLE),
      route("10.5.0.0/16", "", 2),  // the agent's: goes
  };
  auto changes = planRouteChanges(current, {}, {2, 3});
  EXPECT_EQ(described(changes.remove), std::set<std::string>{"10.5.0.0/16 dev 2"});
}

TEST(NetworkRoutes, AnotherGatewayOrDeviceIsAnotherRoute) {
  std::vector<RouteEntry> current = {route("default", "172.17.0.1", 2),
                                     route("10.1.0.0/16", "", 2)};
  std::vector<RouteEntry> wanted = {route("default", "172.17.0.254", 2),
                                    route("10.1.0.0/16", "", 3)};
  auto changes = planRouteChanges(current, wanted, {2, 3});
  EXPECT_EQ(changes.remove.size(), 2u);
  EXPECT_EQ(changes.add, (std::vector<std::size_t>{0, 1}));
}

TEST(NetworkRoutes, HostBitsAndDuplicatesDoNotMatter) {
  std::vector<RouteEntry> current = {route("10.1.0.0/16", "", 2)};
  std::vector<RouteEntry> wanted = {route("10.1.2.3/16", "", 2), route("10.2.0.0/16", "", 2),
                                    route("10.2.0.0/16", "", 2)};
  auto changes = planRouteChanges(current, wanted, {2});
  EXPECT_TRUE(changes.remove.empty());
  EXPECT_EQ(changes.add, std::vector<std::size_t>{1});
}

TEST(NetworkRoutes, TheDefaultRoutesOfBothFamiliesDiffer) {
  std::vector<RouteEntry> current = {route("default", "172.17.0.1", 2)};
  std::vector<RouteEntry> wanted = {route("::/0", "", 2)};
  auto changes = planRouteChanges(current, wanted, {2});
  EXPECT_EQ(changes.remove.size(), 1u);
  EXPECT_EQ(changes.add, std::vector<std::size_t>{0});
}

}  // namespace
}  // namespace runvirt::agent

// libvirt-backend/network/network_plan.cpp: from what `ip -json` shows in the container's
// namespace (captured from Docker 20.10 containers on this host) to the guest's network.
#include "network/network_plan.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;

// `ip -details -json address show` in a container on Docker's default bridge (abridged:
// the fields runvirt ignores are mostly left out).
constexpr const char* kDockerBridgeAddresses = R"([
  {"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue",
   "operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00",
   "addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},
  {"ifindex":20,"link_index":21,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,
   "link_type":"ether","address":"02:42:ac:11:00:02","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,
   "linkinfo":{"info_kind":"veth"},
   "addr_info":[{"family":"inet","local":"172.17.0.2","prefixlen":16,"broadcast":"172.17.255.255",
                 "scope":"global","label":"eth0","valid_life_time":4294967295}]}
])";

constexpr const char* kDockerBridgeRoutes = R"([
  {"dst":"default","gateway":"172.17.0.1","dev":"eth0","flags":[]},
  {"dst":"172.17.0.0/16","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"172.17.0.2","flags":[]}
])";

TEST(NetworkPlan, DockerDefaultBridge) {
  auto links = parseLinks(kDockerBridgeAddresses);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].type, "loopback");
  EXPECT_EQ(links[1].kind, "veth");
  NetworkPlan plan = planNetwork(links, parseRoutes(kDockerBridgeRoutes, false));
  ASSERT_EQ(plan.interfaces.size(), 1u);
  const agent::Interface& eth0 = plan.interfaces[0];
  EXPECT_EQ(eth0.name, "eth0");
  EXPECT_EQ(eth0.mac, "02:42:ac:11:00:02");
  EXPECT_EQ(eth0.mtu, 1500u);
  EXPECT_EQ(eth0.addresses, std::vector<std::string>{"172.17.0.2/16"});
  // The subnet route comes with the address in the guest too: only the default route is sent.
  ASSERT_EQ(plan.routes.size(), 1u);
  EXPECT_EQ(plan.routes[0].destination, "default");
  EXPECT_EQ(plan.routes[0].gateway, "172.17.0.1");
  EXPECT_EQ(plan.routes[0].device, "eth0");
}

TEST(NetworkPlan, NetworkNoneHasNothingToBridge) {
  constexpr const char* loOnly =
      R"([{"ifindex":1,"ifname":"lo","mtu":65536,"link_type":"loopback","address":"00:00:00:00:00:00"}])";
  NetworkPlan plan = planNetwork(parseLinks(loOnly), parseRoutes("[]", false));
  EXPECT_TRUE(plan.interfaces.empty());
  EXPECT_TRUE(plan.routes.empty());
}

TEST(NetworkPlan, Ipv6GlobalAddressesCountLinkLocalOnesDoNot) {
  constexpr const char* dualStack = R"([
    {"ifname":"eth0","mtu":9000,"link_type":"ether","address":"02:42:ac:12:00:03","linkinfo":{"info_kind":"veth"},
     "addr_info":[{"family":"inet","local":"172.18.0.3","prefixlen":16,"scope":"global"},
                  {"family":"inet6","local":"fd00:dead::3","prefixlen":64,"scope":"global"},
                  {"family":"inet6","local":"fe80::42:acff:fe12:3","prefixlen":64,"scope":"link"}]}])";
  constexpr const char* routes6 = R"([
    {"dst":"fd00:dead::/64","dev":"eth0","protocol":"kernel","metric":256,"pref":"medium"},
    {"dst":"fe80::/64","dev":"eth0","protocol":"kernel","metric":256,"pref":"medium"},
    {"dst":"default","gateway":"fd00:dead::1","dev":"eth0","metric":1024,"pref":"medium"}])";
  auto routes = parseRoutes(R"([{"dst":"default","gateway":"172.18.0.1","dev":"eth0"}])", false);
  auto more = parseRoutes(routes6, true);
  routes.insert(routes.end(), more.begin(), more.end());
  NetworkPlan plan = planNetwork(parseLinks(dualStack), routes);
  ASSERT_EQ(plan.interfaces.size(), 1u);
  EXPECT_EQ(plan.interfaces[0].mtu, 9000u);
  EXPECT_EQ(plan.interfaces[0].addresses,
            (std::vector<std::string>{"172.18.0.3/16", "fd00:dead::3/64"}));
  ASSERT_EQ(plan.routes.size(), 2u);
  EXPECT_EQ(plan.routes[1].destination, "default");
  EXPECT_EQ(plan.routes[1].gateway, "fd00:dead::1");
}

TEST(NetworkPlan, RoutesAreConnectedFirstThenViaGatewaysThenDefault) {
  constexpr const char* links = R"([
    {"ifname":"eth0","link_type":"ether","address":"02:42:ac:11:00:02","linkinfo":{"info_kind":"veth"}},
    {"ifname":"eth1","link_type":"ether","address":"02:42:ac:13:00:02","linkinfo":{"info_kind":"veth"}}])";
  constexpr const char* routes = R"([
    {"dst":"default","gateway":"172.17.0.1","dev":"eth0"},
    {"dst":"10.1.0.0/16","gateway":"192.168.5.1","dev":"eth1"},
    {"dst":"192.168.5.0/24","dev":"eth1","scope":"link"},
    {"dst":"10.9.9.9","dev":"eth0","scope":"link"},
    {"dst":"10.7.0.0/16","dev":"eth0","type":"unreachable"},
    {"dst":"10.8.0.0/16","dev":"wg0"},
    {"dst":"172.17.0.0/16","dev":"eth0","protocol":"kernel","scope":"link"}])";
  NetworkPlan plan = planNetwork(parseLinks(links), parseRoutes(routes, false));
  std::vector<std::string> order;
  for (const auto& r : plan.routes) order.push_back(r.destination + "@" + r.device);
  EXPECT_EQ(order, (std::vector<std::string>{"192.168.5.0/24@eth1", "10.9.9.9/32@eth0",
                                             "10.1.0.0/16@eth1", "default@eth0"}));
}

TEST(NetworkPlan, DefaultIpv6RouteWithoutGatewayIsSpelledOut) {
  constexpr const char* links =
      R"([{"ifname":"eth0","link_type":"ether","address":"02:00:00:00:00:01"}])";
  NetworkPlan plan =
      planNetwork(parseLinks(links), parseRoutes(R"([{"dst":"default","dev":"eth0"}])", true));
  ASSERT_EQ(plan.routes.size(), 1u);
  EXPECT_EQ(plan.routes[0].destination, "::/0");
  EXPECT_EQ(plan.routes[0].gateway, "");
}

TEST(NetworkPlan, TunnelsBridgesAndForeignTapsAreNotBridged) {
  constexpr const char* links = R"([
    {"ifname":"tunl0","link_type":"ipip","address":"0.0.0.0"},
    {"ifname":"br0","link_type":"ether","address":"02:00:00:00:00:09","linkinfo":{"info_kind":"bridge"}},
    {"ifname":"tap7","link_type":"ether","address":"02:00:00:00:00:07","linkinfo":{"info_kind":"tun"}},
    {"ifname":"mv0","link_type":"ether","address":"02:00:00:00:00:05","linkinfo":{"info_kind":"macvlan"}}])";
  NetworkPlan plan = planNetwork(parseLinks(links), {});
  ASSERT_EQ(plan.interfaces.size(), 1u);
  EXPECT_EQ(plan.interfaces[0].name, "mv0");
}

TEST(NetworkPlan, ANamespaceServingAnotherRunvirtContainerIsRefused) {
  constexpr const char* links = R"([
    {"ifname":"eth0","link_type":"ether","address":"02:42:ac:11:00:02","linkinfo":{"info_kind":"veth"}},
    {"ifname":"rv0123456789","link_type":"ether","address":"5a:00:00:00:00:01","linkinfo":{"info_kind":"tun"}}])";
  EXPECT_TRUE(contains(errorOf([&] { planNetwork(parseLinks(links), {}); }),
                       "already used by another runvirt container (tap `rv0123456789`)"));
}

TEST(NetworkPlan, OutputThatIsNotIpJsonIsAnError) {
  EXPECT_TRUE(
      contains(errorOf([] { parseLinks("Device \"x\" does not exist."); }), "not a JSON array"));
  EXPECT_TRUE(contains(errorOf([] { parseRoutes("{}", false); }), "not a JSON array"));
}

TEST(NetworkPlan, OddFieldsAreSkippedNotFatal) {
  constexpr const char* links = R"([
    {"ifname":"eth0","link_type":"ether","address":"02:42:ac:11:00:02","mtu":"big",
     "addr_info":[{"family":"inet","local":"10.0.0.2","prefixlen":"x"},
                  {"family":"inet","local":"10.0.0.3","prefixlen":24,"scope":"global"}]},
    {"noname":true}, 7])";
  auto parsed = parseLinks(links);
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].mtu, 1500u);
  EXPECT_EQ(parsed[0].addresses, std::vector<std::string>{"10.0.0.3/24"});
}

}  // namespace
}  // namespace runvirt::backend

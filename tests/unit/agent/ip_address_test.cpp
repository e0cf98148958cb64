// guest/agent/ip_address.cpp: the addresses and prefixes of configure_network requests.
#include "ip_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::agent {
namespace {

std::string text(const IpAddress& a) {
  char buf[64];
  inet_ntop(a.family, a.bytes.data(), buf, sizeof buf);
  return buf;
}

TEST(IpAddress, ParsesBothFamilies) {
  IpAddress v4 = parseIpAddress("172.17.0.2");
  EXPECT_EQ(v4.family, AF_INET);
  EXPECT_EQ(v4.size(), 4u);
  EXPECT_EQ(text(v4), "172.17.0.2");
  IpAddress v6 = parseIpAddress("fd00::2");
  EXPECT_EQ(v6.family, AF_INET6);
  EXPECT_EQ(v6.size(), 16u);
  EXPECT_EQ(text(v6), "fd00::2");
  EXPECT_TRUE(test::contains(test::errorOf([] { parseIpAddress("172.17.0"); }),
                             "invalid IP address `172.17.0`"));
}

TEST(IpAddress, PrefixesNeedAFittingLength) {
  IpPrefix p = parseIpPrefix("172.17.0.2/16");
  EXPECT_EQ(p.length, 16u);
  EXPECT_EQ(text(p.address), "172.17.0.2");
  EXPECT_EQ(parseIpPrefix("fd00::2/64").length, 64u);
  EXPECT_EQ(parseIpPrefix("::/0").length, 0u);
  for (const char* bad :
       {"172.17.0.2", "172.17.0.2/33", "fd00::2/129", "10.0.0.1/", "10.0.0.1/8x", "10.0.0.1/-1"}) {
    EXPECT_TRUE(test::contains(test::errorOf([&] { parseIpPrefix(bad); }), "invalid prefix"))
        << bad;
  }
}

TEST(IpAddress, BroadcastSetsTheHostBits) {
  EXPECT_EQ(text(*broadcastOf(parseIpPrefix("172.17.0.2/16"))), "172.17.255.255");
  EXPECT_EQ(text(*broadcastOf(parseIpPrefix("10.1.2.3/20"))), "10.1.15.255");
  EXPECT_EQ(text(*broadcastOf(parseIpPrefix("10.1.2.3/30"))), "10.1.2.3");
  EXPECT_FALSE(broadcastOf(parseIpPrefix("10.1.2.3/31")));
  EXPECT_FALSE(broadcastOf(parseIpPrefix("10.1.2.3/32")));
  EXPECT_FALSE(broadcastOf(parseIpPrefix("fd00::2/64")));
}

TEST(IpAddress, DefaultRouteTakesTheGatewaysFamily) {
  IpPrefix v4 = routeDestination({"default", "172.17.0.1", "eth0"});
  EXPECT_EQ(v4.address.family, AF_INET);
  EXPECT_EQ(v4.length, 0u);
  IpPrefix v6 = routeDestination({"default", "fd00::1", "eth0"});
  EXPECT_EQ(v6.address.family, AF_INET6);
  EXPECT_EQ(v6.length, 0u);
  EXPECT_EQ(routeDestination({"default", "", "eth0"}).address.family, AF_INET);
  EXPECT_EQ(routeDestination({"::/0", "", "eth0"}).address.family, AF_INET6);
  EXPECT_EQ(routeDestination({"10.10.0.0/16", "", "eth0"}).length, 16u);
}

TEST(IpAddress, PrintsBothFamilies) {
  EXPECT_EQ(toString(parseIpPrefix("172.17.0.2/16")), "172.17.0.2/16");
  EXPECT_EQ(toString(parseIpPrefix("fd00:0:0::2/64")), "fd00::2/64");
  EXPECT_EQ(toString(parseIpAddress("fe80::1")), "fe80::1");
}

TEST(IpAddress, EqualityTakesFamilyAddressAndLength) {
  EXPECT_EQ(parseIpPrefix("10.0.0.2/24"), parseIpPrefix("10.0.0.2/24"));
  EXPECT_FALSE(parseIpPrefix("10.0.0.2/24") == parseIpPrefix("10.0.0.2/16"));
  EXPECT_FALSE(parseIpPrefix("10.0.0.2/24") == parseIpPrefix("10.0.0.3/24"));
  EXPECT_FALSE(parseIpAddress("0.0.0.0") == parseIpAddress("::"));
}

TEST(IpAddress, NetworkClearsTheHostBits) {
  EXPECT_EQ(toString(networkOf(parseIpPrefix("10.1.2.3/16"))), "10.1.0.0/16");
  EXPECT_EQ(toString(networkOf(parseIpPrefix("10.1.2.3/20"))), "10.1.0.0/20");
  EXPECT_EQ(toString(networkOf(parseIpPrefix("10.1.2.3/32"))), "10.1.2.3/32");
  EXPECT_EQ(toString(networkOf(parseIpPrefix("10.1.2.3/0"))), "0.0.0.0/0");
  EXPECT_EQ(toString(networkOf(parseIpPrefix("fd00:1:2:3:4::5/64"))), "fd00:1:2:3::/64");
  EXPECT_EQ(toString(networkOf(parseIpPrefix("fd00::ff/121"))), "fd00::80/121");
}

TEST(IpAddress, LinkLocalAndLoopbackAreTheKernels) {
  for (const char* own : {"fe80::1", "febf::1", "::1", "127.0.0.1", "127.1.2.3"}) {
    EXPECT_TRUE(isLinkLocalOrLoopback(parseIpAddress(own))) << own;
  }
  for (const char* container :
       {"fec0::1", "fd00::1", "::", "::2", "10.0.0.1", "169.254.1.1", "128.0.0.1"}) {
    EXPECT_FALSE(isLinkLocalOrLoopback(parseIpAddress(container))) << container;
  }
}

TEST(IpAddress, MacsCompareWithoutCase) {
  EXPECT_TRUE(sameMac("02:42:AC:11:00:02", "02:42:ac:11:00:02"));
  EXPECT_FALSE(sameMac("02:42:ac:11:00:02", "02:42:ac:11:00:03"));
  EXPECT_FALSE(sameMac("02:42:ac:11:00:02", "02:42:ac:11:00:0"));
}

}  // namespace
}  // namespace runvirt::agent

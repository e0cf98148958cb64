// libvirt-backend/network/tap.cpp: tap names, and creating and removing taps, done in a throwaway
// network namespace of a child process so the host's is never touched.
#include "network/tap.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include <set>

#include "network/network_namespace.hpp"
#include "unit/netns_util.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

TEST(Tap, NamesAreRvAndTenHexDigits) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string name = newTapName();
    EXPECT_EQ(name.size(), 12u);
    EXPECT_LT(name.size(), std::size_t(IFNAMSIZ));
    EXPECT_TRUE(isTapName(name)) << name;
    seen.insert(name);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Tap, OnlyRunvirtNamesAreTapNames) {
  EXPECT_TRUE(isTapName("rv0123456789"));
  EXPECT_TRUE(isTapName("rvabcdefabcd"));
  for (const char* name : {"eth0", "rv", "rv012345678", "rv0123456789a", "rvABCDEF0123",
                           "tv0123456789", "rv01234567-9", "rv012345678/", ""}) {
    EXPECT_FALSE(isTapName(name)) << name;
  }
}

TEST(Tap, CreateRefusesABadName) {
  EXPECT_TRUE(
      test::contains(test::errorOf([] { createTap("eth0", -1); }), "invalid tap name `eth0`"));
}

TEST(Tap, CreatedPersistentThenRemoved) {
  int result = test::inThrowawayNetworkNamespace([] {
    int failures = 0;
    UniqueFd here = openCurrentNetworkNamespace();
    std::string name = newTapName();
    createTap(name, here.get());
    failures += if_nametoindex(name.c_str()) == 0;  // still there after the fd closed
    try {
      createTap(name, here.get());
      ++failures;  // a second tap of that name must be refused, not attached to
    } catch (const Error&) {
    }
    // Not taps, or not runvirt's: left alone.
    removeHostTaps({"lo", name + "x"});
    failures += if_nametoindex("lo") == 0;
    removeHostTaps({name, "rv0000000000"});  // an absent one is fine
    failures += if_nametoindex(name.c_str()) != 0;
    return failures;
  });
  if (result == 77) GTEST_SKIP() << "no privilege to create a network namespace";
  EXPECT_EQ(result, 0);
}

}  // namespace
}  // namespace runvirt::backend

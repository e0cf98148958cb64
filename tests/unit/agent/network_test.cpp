// guest/agent/network.cpp: the order of renames that gives every NIC its container name.
#include "network.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace runvirt::agent {
namespace {

// Applies the renames to a set of names, failing on a clash as the kernel would.
std::vector<std::string> applyRenames(std::vector<std::string> names, const std::vector<Rename>& renames) {
  for (const auto& r : renames) {
    auto from = std::find(names.begin(), names.end(), r.from);
    EXPECT_NE(from, names.end()) << "no " << r.from;
    EXPECT_EQ(std::find(names.begin(), names.end(), r.to), names.end()) << r.to << " is taken";
    if (from != names.end()) *from = r.to;
  }
  return names;
}

TEST(NetworkRenames, NothingToDoWhenNamesMatch) {
  EXPECT_TRUE(planRenames({"eth0"}, {"eth0"}).empty());
}

TEST(NetworkRenames, SwappedNamesGoThroughTemporaryOnes) {
  std::vector<std::string> current = {"eth1", "eth0"}, wanted = {"eth0", "eth1"};
  auto renames = planRenames(current, wanted);
  EXPECT_EQ(renames.size(), 4u);
  EXPECT_EQ(applyRenames(current, renames), wanted);
}

TEST(NetworkRenames, OnlyTheOnesThatDifferMove) {
  std::vector<std::string> current = {"eth0", "eth1", "eth2"}, wanted = {"eth0", "backend", "frontend"};
  auto renames = planRenames(current, wanted);
  EXPECT_EQ(renames.size(), 4u);
  EXPECT_EQ(applyRenames(current, renames), wanted);
  for (const auto& r : renames) EXPECT_NE(r.from, "eth0");
}

}  // namespace
}  // namespace runvirt::agent

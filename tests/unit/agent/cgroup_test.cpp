// guest/agent/cgroup.cpp: the container's cgroup v2 plan, and applying it to a directory tree
// laid out like cgroupfs (a temporary directory, so nothing is mounted or limited here).
#include "cgroup.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "unit/test_util.hpp"

namespace runvirt::agent {
namespace {

std::string valueOf(const CgroupPlan& plan, const std::string& name) {
  for (const auto& file : plan.files) {
    if (file.name == name) return file.value;
  }
  return "<absent>";
}

TEST(PlanContainerCgroup, DockerMemoryAndPidsLimits) {
  Resources resources;
  resources.memoryLimit = 64 * 1024 * 1024;
  resources.pidsLimit = 10;
  CgroupPlan plan = planContainerCgroup("c1", resources);
  EXPECT_EQ(plan.dir, "containers/c1");
  EXPECT_EQ(plan.controllers, (std::vector<std::string>{"memory", "pids"}));
  EXPECT_EQ(valueOf(plan, "memory.max"), "67108864");
  EXPECT_EQ(valueOf(plan, "memory.swap.max"), "0");
  EXPECT_EQ(valueOf(plan, "pids.max"), "10");
  EXPECT_EQ(plan.overcommitMemory, "1");  // the limit bites, not the VM's size
}

TEST(PlanContainerCgroup, NoLimitsWritesMaxSoALeftOverDirectoryIsReset) {
  CgroupPlan plan = planContainerCgroup("c1", Resources{});
  EXPECT_EQ(valueOf(plan, "memory.max"), "max");
  EXPECT_EQ(valueOf(plan, "pids.max"), "max");
  EXPECT_EQ(plan.overcommitMemory, "");  // the kernel's default
}

TEST(PlanContainerCgroup, OnlySwapIsOptional) {
  for (const auto& file : planContainerCgroup("c1", Resources{}).files) {
    EXPECT_EQ(file.optional, file.name == "memory.swap.max") << file.name;
  }
}

// A fake cgroup2 tree: root and containers/ offer controllers, the leaf has the limit files
// the kernel would create (without memory.swap.max, as on a kernel without swap).
class FakeCgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    test::writeFile(dir / "cgroup.controllers", "cpuset cpu io memory pids\n");
    test::writeFile(dir / "cgroup.subtree_control", "");
    test::writeFile(dir / "containers/cgroup.controllers", "memory pids\n");
    test::writeFile(dir / "containers/cgroup.subtree_control", "");
    test::writeFile(dir / "containers/c1/memory.max", "max\n");
    test::writeFile(dir / "containers/c1/pids.max", "max\n");
  }
  test::TempDir dir;
};

TEST_F(FakeCgroupTree, CreateEnablesControllersAndWritesLimits) {
  Resources resources;
  resources.memoryLimit = 1 << 30;
  resources.pidsLimit = 100;
  ContainerCgroup cgroup =
      ContainerCgroup::create(planContainerCgroup("c1", resources), dir.path());
  EXPECT_EQ(cgroup.path(), dir / "containers/c1");
  EXPECT_GE(cgroup.fd(), 0);
  EXPECT_EQ(test::readFile(dir / "cgroup.subtree_control"), "+memory +pids");
  EXPECT_EQ(test::readFile(dir / "containers/cgroup.subtree_control"), "+memory +pids");
  EXPECT_EQ(test::readFile(dir / "containers/c1/memory.max"), "1073741824");
  EXPECT_EQ(test::readFile(dir / "containers/c1/pids.max"), "100");
  EXPECT_FALSE(test::exists(dir / "containers/c1/memory.swap.max"));  // optional, not created
}

TEST_F(FakeCgroupTree, OnlyControllersTheParentOffersAreEnabled) {
  test::writeFile(dir / "containers/cgroup.controllers", "pids\n");
  ContainerCgroup::create(planContainerCgroup("c1", Resources{}), dir.path());
  EXPECT_EQ(test::readFile(dir / "containers/cgroup.subtree_control"), "+pids");
}

TEST_F(FakeCgroupTree, AMissingLimitFileNamesIt) {
  std::filesystem::remove(dir / "containers/c1/pids.max");
  Resources resources;
  resources.pidsLimit = 10;
  std::string message = test::errorOf(
      [&] { ContainerCgroup::create(planContainerCgroup("c1", resources), dir.path()); });
  EXPECT_TRUE(test::contains(message, "containers/c1/pids.max"));
}

TEST_F(FakeCgroupTree, CreatesTheDirectoryAndRemoveDeletesIt) {
  CgroupPlan plan{"containers/c2", {"memory"}, {}, ""};
  ContainerCgroup cgroup = ContainerCgroup::create(plan, dir.path());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "containers/c2"));
  cgroup.remove();
  EXPECT_FALSE(test::exists(dir / "containers/c2"));
  EXPECT_FALSE(cgroup);
  cgroup.remove();  // twice is harmless
}

TEST_F(FakeCgroupTree, AddProcessWritesCgroupProcs) {
  CgroupPlan plan{"containers/c1", {}, {}, ""};
  test::writeFile(dir / "containers/c1/cgroup.procs", "");
  ContainerCgroup cgroup = ContainerCgroup::create(plan, dir.path());
  cgroup.addProcess(1234);
  EXPECT_EQ(test::readFile(dir / "containers/c1/cgroup.procs"), "1234");
  EXPECT_THROW(ContainerCgroup{}.addProcess(1), Error);
}

}  // namespace
}  // namespace runvirt::agent

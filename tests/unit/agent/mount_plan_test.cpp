#include "mount_plan.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace runvirt::agent {
namespace {

TEST(CleanContainerPath, IsAbsoluteCleanAndNeverAboveRoot) {
  EXPECT_EQ(cleanContainerPath("/a/./b/../c"), "/a/c");
  EXPECT_EQ(cleanContainerPath("a//b/"), "/a/b");
  EXPECT_EQ(cleanContainerPath("/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(cleanContainerPath("/a/../../.."), "/");
  EXPECT_EQ(cleanContainerPath(""), "/");
  EXPECT_EQ(cleanContainerPath("/"), "/");
  EXPECT_EQ(cleanContainerPath("/dev/..."), "/dev/...");
}

Mount mount(std::string destination, std::string type, std::string source,
            std::vector<std::string> options) {
  return {std::move(destination), std::move(type), std::move(source), std::move(options)};
}

TEST(PlanMounts, DockerDefaults) {
  auto steps = planMounts({
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid", "noexec", "nodev"}),
  });
  ASSERT_EQ(steps.size(), 5u);
  EXPECT_EQ(steps[0].kind, MountStep::Kind::Filesystem);
  EXPECT_EQ(steps[0].flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV));
  EXPECT_EQ(steps[1].data, "mode=755,size=65536k");
  EXPECT_EQ(steps[1].flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(steps[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  EXPECT_EQ(steps[3].flags & MS_RDONLY, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(steps[4].kind, MountStep::Kind::Cgroup);
  EXPECT_EQ(steps[4].type, "cgroup2");
  EXPECT_EQ(steps[4].data, "");
  EXPECT_TRUE(needsDevPopulation(steps));
}

TEST(PlanMounts, ReadOnlyBindGetsARemountPass) {
  auto steps = planMounts(
      {mount("/data/../vol", "bind", "mounts/0", {"rbind", "ro", "nosuid", "rprivate"})});
  ASSERT_EQ(steps.size(), 1u);
  const MountStep& step = steps[0];
  EXPECT_EQ(step.kind, MountStep::Kind::Bind);
  EXPECT_EQ(step.destination, "/vol");
  EXPECT_EQ(step.source, "mounts/0");
  EXPECT_EQ(step.flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(step.remountFlags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
  EXPECT_EQ(step.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
}

TEST(PlanMounts, PlainBindNeedsNoRemount) {
  auto steps = planMounts({mount("/etc/hosts", "", "mounts/1", {"bind"})});
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, MountStep::Kind::Bind);
  EXPECT_EQ(steps[0].flags, static_cast<unsigned long>(MS_BIND));
  EXPECT_EQ(steps[0].remountFlags, 0ul);
  EXPECT_FALSE(needsDevPopulation(steps));
}

TEST(PlanMounts, DevNeedsPopulationOnlyAsTmpfs) {
  EXPECT_FALSE(needsDevPopulation(planMounts({mount("/dev", "bind", "mounts/2", {"rbind"})})));
  EXPECT_TRUE(needsDevPopulation(planMounts({mount("/dev/", "tmpfs", "tmpfs", {})})));
}

}  // namespace
}  // namespace runvirt::agent

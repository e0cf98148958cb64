// libvirt-backend/cgroups/host_cgroup.cpp: which host cgroup directories a container's VM joins
// (mountinfo and /proc/<pid>/cgroup parsing, cgroupsPath forms).
#include "cgroups/host_cgroup.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

// This team's hosts: cgroup v1 hybrid, each controller mounted on its own, plus name=systemd and
// the controller-less cgroup2 `unified` hierarchy (captured from /proc/self/mountinfo).
constexpr const char* kHybridMountinfo =
    "24 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr const char* kPureV2Mountinfo =
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

TEST(ParseCgroupHierarchies, HybridHost) {
  auto h = parseCgroupHierarchies(kHybridMountinfo);
  ASSERT_EQ(h.size(), 7u);
  EXPECT_EQ(h[0].mountPoint, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(h[0].root, "/");
  EXPECT_EQ(h[0].controllers, (std::vector<std::string>{"cpu"}));
  EXPECT_FALSE(h[0].unified);
  EXPECT_TRUE(h[2].has("cpuset"));
  EXPECT_TRUE(h[5].has("name=systemd"));
  EXPECT_EQ(h[6].mountPoint, "/sys/fs/cgroup/unified");
  EXPECT_TRUE(h[6].unified);
  EXPECT_TRUE(h[6].controllers.empty());
}

TEST(ParseCgroupHierarchies, PureV2Host) {
  auto h = parseCgroupHierarchies(kPureV2Mountinfo);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].mountPoint, "/sys/fs/cgroup");
  EXPECT_TRUE(h[0].unified);
}

TEST(ParseCgroupHierarchies, CoMountedControllersSecondMountsAndEscapes) {
  auto h = parseCgroupHierarchies(
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "90 31 0:29 /docker/x /mnt/cpu\\040copy rw - cgroup cgroup rw,cpu,cpuacct\n"
      "91 31 0:50 /sub /mnt/my\\040cgroup rw - cgroup cgroup ro,memory,clone_children\n");
  ASSERT_EQ(h.size(), 2u);  // the bind mount of the same hierarchy (0:29) is skipped
  EXPECT_EQ(h[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_TRUE(h[0].has("cpuacct"));
  EXPECT_EQ(h[1].mountPoint, "/mnt/my cgroup");
  EXPECT_EQ(h[1].root, "/sub");
  EXPECT_TRUE(h[1].has("memory"));
}

TEST(ParseProcessCgroups, V1AndV2Lines) {
  auto lines = parseProcessCgroups(
      "9:name=systemd:/docker/abc\n2:cpu,cpuacct:/docker/abc\n4:memory:/process_api/91\n0::/\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].controllers, (std::vector<std::string>{"name=systemd"}));
  EXPECT_EQ(lines[1].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(lines[1].path, "/docker/abc");
  EXPECT_EQ(lines[2].path, "/process_api/91");
  EXPECT_TRUE(lines[3].controllers.empty());
  EXPECT_EQ(lines[3].path, "/");
}

TEST(ParseCgroupsPath, DockerCgroupfsForm) {
  auto p = parseCgroupsPath("/docker/4f2c1a");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "/docker/4f2c1a");
  EXPECT_FALSE(p->relative);
  EXPECT_EQ(parseCgroupsPath("//docker///4f2c1a/./")->path, "/docker/4f2c1a");
  EXPECT_FALSE(parseCgroupsPath(""));
}

TEST(ParseCgroupsPath, SystemdFormBecomesTheUnitsDirectory) {
  EXPECT_EQ(parseCgroupsPath("system.slice:docker:4f2c1a")->path,
            "/system.slice/docker-4f2c1a.scope");
  EXPECT_EQ(parseCgroupsPath(":docker:4f2c1a")->path, "/system.slice/docker-4f2c1a.scope");
  EXPECT_EQ(parseCgroupsPath("kubepods-besteffort-pod1.slice:cri-containerd:c1")->path,
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
            "cri-containerd-c1.scope");
  EXPECT_EQ(parseCgroupsPath("-.slice:p:n")->path, "/p-n.scope");
  EXPECT_EQ(parseCgroupsPath("system.slice::n")->path, "/system.slice/n.scope");
  EXPECT_EQ(parseCgroupsPath("system.slice:p:a-b.slice")->path, "/a.slice/a-b.slice");
  EXPECT_FALSE(parseCgroupsPath("system.slice:docker:x")->relative);
}

TEST(ParseCgroupsPath, RelativePathIsBelowTheRuntimesOwnCgroup) {
  auto p = parseCgroupsPath("kubepods/pod1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "kubepods/pod1");
  EXPECT_TRUE(p->relative);
}

TEST(ParseCgroupsPath, RejectsEscapesRootAndMalformedSystemdForms) {
  for (const char* bad :
       {"/docker/../../etc", "../x", "/", "docker.slice:x", "bad:docker:abc", "a--b.slice:p:n",
        "-a.slice:p:n", "system.slice:p:", "system.slice:p:a/b"}) {
    EXPECT_THROW(parseCgroupsPath(bad), Error) << bad;
  }
  EXPECT_TRUE(test::contains(test::errorOf([] { parseCgroupsPath("bad:docker:abc"); }), "slice"));
}

TEST(PlanCgroupDirectories, EveryHierarchyOfAHybridHost) {
  auto dirs = planCgroupDirectories(parseCgroupHierarchies(kHybridMountinfo),
                                    *parseCgroupsPath("/docker/abc"), {});
  ASSERT_EQ(dirs.size(), 7u);
  EXPECT_EQ(dirs[0].path, "/sys/fs/cgroup/cpu/docker/abc");
  EXPECT_EQ(dirs[0].mountPoint, "/sys/fs/cgroup/cpu");
  EXPECT_FALSE(dirs[0].cpuset);
  EXPECT_EQ(dirs[2].path, "/sys/fs/cgroup/cpuset/docker/abc");
  EXPECT_TRUE(dirs[2].cpuset);
  EXPECT_EQ(dirs[5].path, "/sys/fs/cgroup/systemd/docker/abc");
  EXPECT_EQ(dirs[6].path, "/sys/fs/cgroup/unified/docker/abc");
  EXPECT_TRUE(dirs[6].unified);
  EXPECT_FALSE(dirs[0].unified);
}

TEST(PlanCgroupDirectories, PureV2Host) {
  auto dirs = planCgroupDirectories(parseCgroupHierarchies(kPureV2Mountinfo),
                                    *parseCgroupsPath("system.slice:docker:abc"), {});
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(dirs[0].path, "/sys/fs/cgroup/system.slice/docker-abc.scope");
  EXPECT_TRUE(dirs[0].unified);
}

TEST(PlanCgroupDirectories, RelativePathFollowsOwnCgroupPerHierarchy) {
  auto own = parseProcessCgroups("4:memory:/process_api/91\n1:cpu:/\n0::/shim\n");
  auto dirs = planCgroupDirectories(parseCgroupHierarchies(kHybridMountinfo),
                                    *parseCgroupsPath("k/p1"), own);
  std::vector<std::string> paths;
  for (const auto& d : dirs) paths.push_back(d.path);
  // cpuacct, cpuset, devices and name=systemd have no line in `own`: skipped.
  EXPECT_EQ(paths, (std::vector<std::string>{"/sys/fs/cgroup/cpu/k/p1",
                                             "/sys/fs/cgroup/memory/process_api/91/k/p1",
                                             "/sys/fs/cgroup/unified/shim/k/p1"}));
}

TEST(PlanCgroupDirectories, HierarchyMountedFromASubtree) {
  auto h = parseCgroupHierarchies(
      "50 1 0:32 /docker/outer /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
  auto dirs = planCgroupDirectories(h, *parseCgroupsPath("/docker/outer/inner"), {});
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(dirs[0].path, "/sys/fs/cgroup/memory/inner");
}

// ---- the record of created directories ----

TEST(ContainerCgroupRecord, AddAndRemoveUseTheRecordedDirectories) {
  test::TempDir vm;
  test::writeFile(vm / "memory/docker/abc/cgroup.procs", "");
  test::writeFile(vm / "cgroups", vm / "memory/docker/abc\n");
  addToContainerCgroup(vm.path(), 4321);
  EXPECT_EQ(test::readFile(vm / "memory/docker/abc/cgroup.procs"), "4321");
  std::filesystem::remove(vm / "memory/docker/abc/cgroup.procs");  // cgroupfs has no real files
  removeContainerCgroup(vm.path());
  EXPECT_FALSE(test::exists(vm / "memory/docker/abc"));
  EXPECT_TRUE(test::exists(vm / "memory/docker"));  // parents stay, as with runc
  removeContainerCgroup(vm.path());                 // already gone: fine
}

TEST(ContainerCgroupRecord, NoRecordNothingToDo) {
  test::TempDir vm;
  EXPECT_NO_THROW(addToContainerCgroup(vm.path(), 1));
  EXPECT_NO_THROW(removeContainerCgroup(vm.path()));
}

}  // namespace
}  // namespace runvirt::backend

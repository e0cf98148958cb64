// libvirt-backend/teardown/reaper.cpp: which VMs are orphans (VM directories whose owner is
// gone or missing for long, domains whose metadata names a dead owner) and how they are reaped.
#include "teardown/reaper.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "fakes/fake_hypervisor.hpp"
#include "unit/test_util.hpp"
#include "vm/vm_config.hpp"
#include "vm/vm_owner.hpp"

namespace runvirt::backend {
namespace {

class ReaperTest : public ::testing::Test {
 protected:
  std::string vmRoot() const { return dir / "vms"; }
  ReaperScope scope(bool askLibvirt = false) {
    return {vmRoot(), "test:///fake", fake.factory(), askLibvirt};
  }

  // A VM directory with a started domain, owned by `pid` (its real start time when alive).
  std::string addVm(const std::string& name, pid_t pid) {
    std::string vmDir = vmRoot() + "/" + name;
    VmOwner owner{VmOwner::Kind::Container, name, dir / "root", pid, 0};
    if (pid == getpid()) owner = selfAsOwner(VmOwner::Kind::Container, name, dir / "root");
    test::writeFile(vmDir + "/console.log", "");
    writeOwnerFile(vmDir, owner);
    test::writeFile(VmPaths{vmDir}.domainMarker(), name + "\n");
    fake.addDomain(name, DomainState::Running, owner);
    return vmDir;
  }

  std::vector<std::string> names(const std::vector<Orphan>& orphans) {
    std::vector<std::string> out;
    for (const auto& o : orphans) out.push_back(o.domainName);
    std::sort(out.begin(), out.end());
    return out;
  }

  test::TempDir dir;
  test::FakeHypervisor fake;
};

TEST_F(ReaperTest, AVmWhoseOwnerIsGoneIsAnOrphanALiveOneIsNot) {
  addVm("runvirt-live", getpid());
  addVm("runvirt-dead", test::deadPid());
  auto orphans = findOrphans(scope());
  ASSERT_EQ(names(orphans), std::vector<std::string>{"runvirt-dead"});
  EXPECT_EQ(orphans[0].vmDir, vmRoot() + "/runvirt-dead");
  EXPECT_TRUE(test::contains(orphans[0].why, "the monitor of container `runvirt-dead`"));
  EXPECT_TRUE(fake.calls().empty()) << "the cheap pass asked libvirt";
}

TEST_F(ReaperTest, AReusedPidIsNotTheOwner) {
  std::string vmDir = addVm("runvirt-reused", getpid());
  VmOwner owner = *readOwnerFile(vmDir);
  owner.startTime += 1;
  writeOwnerFile(vmDir, owner);
  EXPECT_EQ(names(findOrphans(scope())), std::vector<std::string>{"runvirt-reused"});
}

TEST_F(ReaperTest, AnOwnerlessDirectoryIsAnOrphanOnlyOnceOld) {
  test::writeFile(vmRoot() + "/runvirt-young/console.log", "");
  test::writeFile(vmRoot() + "/runvirt-old/console.log", "");
  timespec old[2] = {{0, UTIME_OMIT}, {time(nullptr) - 3600, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (vmRoot() + "/runvirt-old").c_str(), old, 0), 0);
  auto orphans = findOrphans(scope());
  ASSERT_EQ(names(orphans), std::vector<std::string>{"runvirt-old"});
  EXPECT_EQ(orphans[0].why, "it names no owner");
}

TEST_F(ReaperTest, OtherFilesInVmDirAreNotVms) {
  test::writeFile(vmRoot() + "/accelerator.json", "{}");
  EXPECT_TRUE(findOrphans(scope()).empty());
}

TEST_F(ReaperTest, AskingLibvirtFindsDomainsWhoseDirectoryIsGone) {
  fake.addDomain("runvirt-lost", DomainState::Running,
                 VmOwner{VmOwner::Kind::Container, "lost", "/run/runvirt", test::deadPid(), 1});
  fake.addDomain("runvirt-kept", DomainState::Running,
                 selfAsOwner(VmOwner::Kind::Container, "kept", "/r"));
  fake.addDomain("not-ours", DomainState::Running);
  auto orphans = findOrphans(scope(true));
  ASSERT_EQ(names(orphans), std::vector<std::string>{"runvirt-lost"});
  EXPECT_EQ(orphans[0].vmDir, "");
}

TEST_F(ReaperTest, ReapingTearsTheOrphanDownAndLeavesTheRest) {
  std::string live = addVm("runvirt-live", getpid());
  std::string dead = addVm("runvirt-dead", test::deadPid());
  fake.addDomain("runvirt-lost", DomainState::Running,
                 VmOwner{VmOwner::Kind::Container, "lost", "/run/runvirt", test::deadPid(), 1});
  auto failures = reapOrphans(scope(true), findOrphans(scope(true)));
  EXPECT_TRUE(failures.empty()) << failures.at(0);
  EXPECT_FALSE(fake.hasDomain("runvirt-dead"));
  EXPECT_FALSE(fake.hasDomain("runvirt-lost"));
  EXPECT_FALSE(test::exists(dead));
  EXPECT_TRUE(fake.hasDomain("runvirt-live"));
  EXPECT_TRUE(test::exists(live));
}

TEST_F(ReaperTest, AnOwnerThatTookOverMeanwhileIsLeftAlone) {
  std::string vmDir = addVm("runvirt-handed", test::deadPid());
  auto orphans = findOrphans(scope());
  writeOwnerFile(vmDir, selfAsOwner(VmOwner::Kind::Teardown, "handed", "/r"));
  EXPECT_TRUE(reapOrphans(scope(), orphans).empty());
  EXPECT_TRUE(fake.hasDomain("runvirt-handed"));
  EXPECT_TRUE(test::exists(vmDir));
}

TEST_F(ReaperTest, OneReaperAtATime) {
  std::string vmDir = addVm("runvirt-dead", test::deadPid());
  UniqueFd held(open((vmRoot() + "/.reaper.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_EQ(flock(held.get(), LOCK_EX), 0);
  // Another process's lock: flock locks belong to open file descriptions, so a child holds it.
  pid_t holder = fork();
  if (holder == 0) {
    pause();
    _exit(0);
  }
  held.reset();
  EXPECT_TRUE(reapOrphans(scope(), findOrphans(scope())).empty());
  EXPECT_TRUE(test::exists(vmDir)) << "reaped while another reaper held the lock";
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  EXPECT_TRUE(reapOrphans(scope(), findOrphans(scope())).empty());
  EXPECT_FALSE(test::exists(vmDir));
}

TEST_F(ReaperTest, FailuresAreReportedPerOrphan) {
  addVm("runvirt-dead", test::deadPid());
  fake.failCall(1, "libvirt says no");
  auto failures = reapOrphans(scope(), findOrphans(scope()));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_TRUE(test::contains(failures[0], "runvirt-dead: destroy VM: libvirt says no"))
      << failures[0];
}

}  // namespace
}  // namespace runvirt::backend

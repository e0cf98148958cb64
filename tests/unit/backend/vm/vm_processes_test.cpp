// libvirt-backend/vm/vm_processes.cpp: which host processes are a VM's (QEMU, virtiofsd and
// their descendants), from a process table.
#include "vm/vm_processes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

ProcessEntry process(pid_t pid, pid_t ppid, std::vector<std::string> argv) {
  return {pid, ppid, std::move(argv)};
}

const std::string kVmDir = "/run/runvirt-vms/runvirt-1";
const std::string kShare = kVmDir + "/share", kVolumes = kVmDir + "/volumes";

std::vector<ProcessEntry> hostProcesses() {
  return {
      process(1, 0, {"/process_api"}),
      process(100, 1, {"libvirtd"}),
      process(
          200, 100,
          {"/usr/lib/qemu/virtiofsd", "--fd=31", "-o", "source=" + kShare + ",cache=always,xattr"}),
      process(
          201, 200,
          {"/usr/lib/qemu/virtiofsd", "--fd=31", "-o", "source=" + kShare + ",cache=always,xattr"}),
      process(210, 100,
              {"/usr/lib/qemu/virtiofsd", "--fd=31", "-o",
               "source=" + kVmDir + "0/share,cache=always"}),
      process(220, 100,
              {"/usr/lib/qemu/virtiofsd", "--fd=32", "-o", "source=" + kVolumes + ",xattr"}),
      process(300, 100,
              {"/usr/bin/qemu-system-x86_64", "-name", "guest=runvirt-1,debug-threads=on", "-S"}),
      process(310, 100,
              {"/usr/bin/qemu-system-x86_64", "-name", "guest=runvirt-10,debug-threads=on", "-S"}),
      process(400, 1, {"sh", "-c", "echo source=" + kShare}),
  };
}

TEST(FindVmProcesses, QemuFromThePidFileVirtiofsdAndItsWorker) {
  EXPECT_EQ(findVmProcesses(hostProcesses(), "runvirt-1", kVmDir, 300),
            (std::vector<pid_t>{200, 201, 220, 300}));
}

TEST(FindVmProcesses, WithoutAPidFileQemuIsFoundByItsName) {
  EXPECT_EQ(findVmProcesses(hostProcesses(), "runvirt-1", kVmDir, std::nullopt),
            (std::vector<pid_t>{200, 201, 220, 300}));
}

TEST(FindVmProcesses, AStalePidFileIsIgnored) {
  // The pid was reused by another domain's QEMU: its command line does not name ours.
  EXPECT_EQ(findVmProcesses(hostProcesses(), "runvirt-1", kVmDir, 310),
            (std::vector<pid_t>{200, 201, 220, 300}));
  EXPECT_EQ(findVmProcesses(hostProcesses(), "runvirt-10", kVmDir + "0", 310),
            (std::vector<pid_t>{210, 310}));
}

TEST(FindVmProcesses, NoQemuIsNotFound) {
  try {
    findVmProcesses(hostProcesses(), "runvirt-2", kVmDir, std::nullopt);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_TRUE(test::contains(e.message(), "runvirt-2"));
  }
}

TEST(FindVirtiofsd, BothSharesServersAndTheirWorkersOnly) {
  EXPECT_EQ(findVirtiofsd(hostProcesses(), kVmDir), (std::vector<pid_t>{200, 201, 220}));
  EXPECT_EQ(findVirtiofsd(hostProcesses(), "/elsewhere"), std::vector<pid_t>{});
}

TEST(VmProcesses, NoQemuForAnUnknownDomain) {
  EXPECT_EQ(qemuPid("runvirt-no-such-domain"), std::nullopt);
  EXPECT_FALSE(killQemu("runvirt-no-such-domain", 0.1));
}

TEST(ReadProcessTable, FindsThisProcessWithItsArguments) {
  auto table = readProcessTable();
  auto self = std::find_if(table.begin(), table.end(),
                           [](const ProcessEntry& p) { return p.pid == getpid(); });
  ASSERT_NE(self, table.end());
  EXPECT_EQ(self->ppid, getppid());
  ASSERT_FALSE(self->argv.empty());
  EXPECT_TRUE(test::contains(self->argv[0], "unit-tests"));
}

}  // namespace
}  // namespace runvirt::backend

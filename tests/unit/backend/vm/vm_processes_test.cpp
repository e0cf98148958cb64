// libvirt-backend/vm/vm_processes.cpp: which host processes are a VM's (QEMU, virtiofsd and
// their descendants), from a process table.
#include "vm/vm_processes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

ProcessEntry process(pid_t pid, pid_t ppid, std::vector<std::string> argv) { return {pid, ppid, std::move(argv)}; }

const std::string kShare = "/run/runvirt-vms/runvirt-1/share";

std::vector<ProcessEntry> hostProcesses() {
  return {
      process(1, 0, {"/process_api"}),
      process(100, 1, {"libvirtd"}),
      process(200, 100, {"/usr/lib/qemu/virtiofsd", "--fd=31", "-o", "source=" + kShare + ",cache=always,xattr"}),
      process(201, 200, {"/usr/lib/qemu/virtiofsd", "--fd=31", "-o", "source=" + kShare + ",cache=always,xattr"}),
      process(210, 100, {"/usr/lib/qemu/virtiofsd", "--fd=31", "-o", "source=" + kShare + "2,cache=always"}),
      process(300, 100, {"/usr/bin/qemu-system-x86_64", "-name", "guest=runvirt-1,debug-threads=on", "-S"}),
      process(310, 100, {"/usr/bin/qemu-system-x86_64", "-name", "guest=runvirt-10,debug-threads=on", "-S"}),
      process(400, 1, {"sh", "-c", "echo source=" + kShare}),
  };
}

TEST(FindVmProcesses, QemuFromThePidFileVirtiofsdAndItsWorker) {
  EXPECT_EQ(findVmProcesses(hostProcesses(), "runvirt-1", kShare, 300), (std::vector<pid_t>{200, 201, 300}));
}

TEST(FindVmProcesses, WithoutAPidFileQemuIsFoundByItsName) {
  EXPECT_EQ(findVmProcesses(hostProcesses(), "runvirt-1", kShare, std::nullopt), (std::vector<pid_t>{200, 201, 300}));
}

TEST(FindVmProcesses, AStalePidFileIsIgnored) {
  // The pid was reused by another domain's QEMU: its command line does not name ours.
  EXPECT_EQ(findVmProcesses(hostProcesses(), "runvirt-1", kShare, 310), (std::vector<pid_t>{200, 201, 300}));
  EXPECT_EQ(findVmProcesses(hostProcesses(), "runvirt-10", kShare + "2", 310), (std::vector<pid_t>{210, 310}));
}

TEST(FindVmProcesses, NoQemuIsNotFound) {
  try {
    findVmProcesses(hostProcesses(), "runvirt-2", kShare, std::nullopt);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_TRUE(test::contains(e.message(), "runvirt-2"));
  }
}

TEST(FindVirtiofsd, TheShareServerAndItsWorkerOnly) {
  EXPECT_EQ(findVirtiofsd(hostProcesses(), kShare), (std::vector<pid_t>{200, 201}));
  EXPECT_EQ(findVirtiofsd(hostProcesses(), "/elsewhere"), std::vector<pid_t>{});
}

TEST(VmProcesses, NoQemuForAnUnknownDomain) {
  EXPECT_EQ(qemuPid("runvirt-no-such-domain"), std::nullopt);
  EXPECT_FALSE(killQemu("runvirt-no-such-domain", 0.1));
}

TEST(ReadProcessTable, FindsThisProcessWithItsArguments) {
  auto table = readProcessTable();
  auto self = std::find_if(table.begin(), table.end(), [](const ProcessEntry& p) { return p.pid == getpid(); });
  ASSERT_NE(self, table.end());
  EXPECT_EQ(self->ppid, getppid());
  ASSERT_FALSE(self->argv.empty());
  EXPECT_TRUE(test::contains(self->argv[0], "unit-tests"));
}

}  // namespace
}  // namespace runvirt::backend

// Owners that vanish: a killed monitor, a killed `runvirt create`, a client that never calls
// delete, a host that rebooted under a persistent --root, a libvirt that does not answer. The
// reaper (`runvirt gc`, and on the way through create and delete) leaves nothing behind.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/un.h>

#include <cstring>

#include <fstream>

#include "faults/host.hpp"
#include "integration/harness.hpp"

namespace runvirt::test {
namespace {

using faults::now;
using faults::sleepFor;

class Reaper : public RuntimeTest {
 protected:
  bool waitForStatus(const std::string& id, const std::string& want, double seconds) {
    for (double start = now(); now() - start < seconds; sleepFor(0.1)) {
      if (state(id).value("status", "") == want) return true;
    }
    return false;
  }

  bool domainExists(const std::string& domain) {
    return runCommand({"virsh", "-c", "qemu:///system", "list", "--all", "--name"})
               .out.find(domain) != std::string::npos;
  }

  bool mountedUnder(const std::string& dir) {
    return readFile("/proc/self/mountinfo").find(dir) != std::string::npos;
  }

  // What the VM of `record` holds on the host is gone: domain, VM directory and its mounts.
  void expectVmGone(const nlohmann::json& record) {
    std::string vmDir = record.value("vmDir", "");
    EXPECT_FALSE(domainExists(record.value("domainName", "?"))) << "domain left";
    EXPECT_FALSE(exists(vmDir)) << vmDir << " left";
    EXPECT_FALSE(mountedUnder(vmDir)) << "mounts under " << vmDir << " left";
  }
};

TEST_F(Reaper, KilledMonitorsVmIsReapedAndDeleteStillWorks) {
  std::string bundle = makeBundle({"sleep", "600"});
  ASSERT_EQ(runvirt({"create", "--bundle", bundle, "orphan"}).status, 0);
  ASSERT_EQ(runvirt({"start", "orphan"}).status, 0);
  nlohmann::json before = record("orphan");
  kill(before["monitorPid"].get<int>(), SIGKILL);
  EXPECT_TRUE(waitForStatus("orphan", "stopped", 10));
  // Without its monitor the VM would run on: the reaper finds it by its owner.
  Result dryRun = runvirt({"gc", "--dry-run"});
  EXPECT_EQ(dryRun.status, 0) << dryRun.err;
  EXPECT_NE(dryRun.out.find(before["domainName"].get<std::string>()), std::string::npos)
      << dryRun.out;
  EXPECT_TRUE(domainExists(before["domainName"])) << "--dry-run removed something";
  Result gc = runvirt({"gc"});
  EXPECT_EQ(gc.status, 0) << gc.err;
  expectVmGone(before);
  // The container's record stays until delete, as with runc.
  EXPECT_EQ(state("orphan")["status"], "stopped");
  EXPECT_EQ(runvirt({"delete", "orphan"}).status, 0);
  expectNothingLeft(before);
}

TEST_F(Reaper, KilledCreateLeavesNothing) {
  std::string bundle = makeBundle({"sleep", "600"});
  std::vector<std::string> argv = {runtimeBinary(), "--root",   root_,  "--config", runtimeConfig(),
                                   "create",        "--bundle", bundle, "halfway"};
  pid_t create = fork();
  if (create == 0) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  // Killed while the VM boots: the domain exists, the container is not created yet.
  nlohmann::json halfway;
  for (double start = now(); now() - start < 30; sleepFor(0.05)) {
    halfway = record("halfway");
    if (halfway.value("monitorPid", 0) > 0 && domainExists(halfway.value("domainName", "?"))) break;
  }
  ASSERT_TRUE(domainExists(halfway.value("domainName", "?"))) << "the VM never started";
  kill(create, SIGKILL);
  waitpid(create, nullptr, 0);
  // The monitor finds nobody to report to and takes the VM down itself.
  for (double start = now(); now() - start < 60 && domainExists(halfway["domainName"]);
       sleepFor(0.2)) {
  }
  expectVmGone(halfway);
  EXPECT_EQ(state("halfway")["status"], "stopped");
  EXPECT_EQ(runvirt({"delete", "halfway"}).status, 0);
  expectNothingLeft(halfway);
}

TEST_F(Reaper, NeverDeletedContainerHoldsNoVmOnceReaped) {
  std::string bundle = makeBundle({"true"});
  ASSERT_EQ(runvirt({"create", "--bundle", bundle, "forgotten"}).status, 0);
  ASSERT_EQ(runvirt({"start", "forgotten"}).status, 0);
  EXPECT_TRUE(waitForStatus("forgotten", "stopped", 30));
  nlohmann::json stopped = record("forgotten");
  // The monitor ends its VM on its way out, after the workload's output has drained.
  for (double start = now(); now() - start < 10 && domainExists(stopped["domainName"]);
       sleepFor(0.1)) {
  }
  EXPECT_FALSE(domainExists(stopped["domainName"])) << "the monitor left its VM running";
  EXPECT_EQ(runvirt({"gc"}).status, 0);
  expectVmGone(stopped);
  EXPECT_EQ(state("forgotten")["status"], "stopped");
  EXPECT_EQ(runvirt({"delete", "forgotten"}).status, 0);
  expectNothingLeft(stopped);
}

// After a host reboot, a persistent --root still holds "running" records whose monitor pid may
// by chance name a live process with a matching start time: the boot id tells them apart.
TEST_F(Reaper, StateFromAnotherBootIsStale) {
  std::string bundle = makeBundle({"sleep", "600"});
  ASSERT_EQ(runvirt({"create", "--bundle", bundle, "old"}).status, 0);
  ASSERT_EQ(runvirt({"start", "old"}).status, 0);
  nlohmann::json real = record("old");
  kill(real["monitorPid"].get<int>(), SIGKILL);
  ASSERT_TRUE(waitForStatus("old", "stopped", 10));
  ASSERT_EQ(runvirt({"gc"}).status, 0);
  // As the record looked before the reboot, its pid now taken by this test process.
  nlohmann::json stale = real;
  stale["status"] = "running";
  stale["monitorPid"] = getpid();
  std::string stat = readFile("/proc/self/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  stale["monitorStartTime"] = std::stoull(field);
  stale["bootId"] = "00000000-0000-0000-0000-000000000000";
  std::ofstream(root_ + "/old/state.json") << stale.dump();
  EXPECT_EQ(state("old")["status"], "stopped");
  Result list = runvirt({"list", "--format", "json"});
  EXPECT_NE(list.out.find("\"stopped\""), std::string::npos) << list.out;
  EXPECT_EQ(runvirt({"delete", "old"}).status, 0);
  expectNothingLeft(real);
}

// A libvirt URI whose server accepts the connection but never answers (a hung libvirtd).
TEST_F(Reaper, UnansweringLibvirtFailsWithinFiveSecondsAndLeavesNothing) {
  std::string socketPath = scratch_ + "/silent-libvirt.sock";
  int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socketPath.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(server, 16), 0);
  std::string uri = "qemu+unix:///system?socket=" + socketPath;
  std::string config = scratch_ + "/silent-libvirt.toml";
  std::ofstream(config) << readFile(runtimeConfig()) << "\n[runtime]\nlibvirt_uri = \"" << uri
                        << "\"\n";
  std::string bundle = makeBundle({"true"});
  faults::Traces before = faults::runvirtTraces();
  double start = now();
  Result r = runCommand(
      {runtimeBinary(), "--root", root_, "--config", config, "run", "--bundle", bundle, "silent"});
  double took = now() - start;
  close(server);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("libvirt at `" + uri + "` does not answer"), std::string::npos) << r.err;
  EXPECT_LT(took, 7) << "the error took " << took << " s";
  EXPECT_FALSE(exists(root_ + "/silent")) << "state left";
  EXPECT_EQ(faults::tracesAdded(before, faults::runvirtTraces()), "");
}

}  // namespace
}  // namespace runvirt::test

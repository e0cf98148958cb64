// libvirt-backend/lifecycle/runtime.cpp: delete, kill, pause, resume, state and list on a temporary
// --root, with a fake hypervisor. create/run start real monitors and VMs: integration tests.
#include "lifecycle/runtime.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "fakes/fake_hypervisor.hpp"
#include "control/channel.hpp"
#include "common/process_info.hpp"
#include "vm/vm_config.hpp"
#include "vm/vm_owner.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;
using test::exists;

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::writeFile(dir / "config.toml",
                    "[runtime]\nvm_dir = \"" + vmDir() + "\"\nlibvirt_uri = \"test:///fake\"\n");
  }

  Runtime runtime() { return Runtime(dir / "root", dir / "config.toml", {}, fake.factory()); }
  std::string vmDir() const { return dir / "vms"; }
  std::string stateDir(const std::string& id) const { return dir / "root/" + id; }
  std::string vmDirOf(const std::string& id) const { return vmDir() + "/runvirt-" + id; }

  // Writes <root>/<id>/state.json and a VM directory with a console log in it.
  ContainerRecord addContainer(const std::string& id, oci::Status status, pid_t monitor) {
    ContainerRecord r;
    r.id = id;
    r.bundle = dir / "bundle";
    r.rootfs = dir / "bundle/rootfs";
    r.created = "2024-01-02T03:04:05.000000000Z";
    r.status = status;
    r.monitorPid = monitor;
    r.monitorStartTime = processStartTime(monitor).value_or(1);
    r.domainName = "runvirt-" + id;
    r.vmDir = vmDirOf(id);
    StateStore store(dir / "root");
    store.claim(id);
    store.save(r);
    test::writeFile(r.vmDir + "/console.log", "booted\n");
    // As the monitor leaves it once it started the domain.
    VmOwner owner{VmOwner::Kind::Container, id, dir / "root", monitor, r.monitorStartTime};
    writeOwnerFile(r.vmDir, owner);
    test::writeFile(VmPaths{r.vmDir}.domainMarker(), r.domainName + "\n");
    fake.addDomain(r.domainName, DomainState::Running, owner);
    return r;
  }

  oci::Status storedStatus(const std::string& id) {
    return StateStore(dir / "root").load(id).status;
  }

  test::TempDir dir;
  test::FakeHypervisor fake;
};

TEST_F(RuntimeTest, DeleteOfStoppedContainerDestroysDomainAndRemovesItsDirectories) {
  addContainer("web", oci::Status::Running, test::deadPid());
  runtime().remove("web", false);
  EXPECT_EQ(fake.calls(), std::vector<std::string>{"destroy runvirt-web"});
  EXPECT_EQ(fake.connectedUris(), std::vector<std::string>{"test:///fake"});
  EXPECT_FALSE(fake.hasDomain("runvirt-web"));
  EXPECT_FALSE(exists(stateDir("web")));
  EXPECT_FALSE(exists(vmDirOf("web")));
}

TEST_F(RuntimeTest, DeleteOfAContainerWhoseVmNeverStartedNeedsNoLibvirt) {
  addContainer("early", oci::Status::Running, test::deadPid());
  std::filesystem::remove(
      VmPaths{vmDirOf("early")}.domainMarker());  // the monitor died before the domain
  runtime().remove("early", false);
  EXPECT_TRUE(fake.calls().empty());
  EXPECT_TRUE(fake.connectedUris().empty());
  EXPECT_FALSE(exists(stateDir("early")));
  EXPECT_FALSE(exists(vmDirOf("early")));
}

TEST_F(RuntimeTest, DeleteOfMissingContainer) {
  EXPECT_EQ(errorOf([&] { runtime().remove("ghost", true); }), "container does not exist");
  EXPECT_TRUE(fake.calls().empty());
}

TEST_F(RuntimeTest, DeleteWithoutForceRefusesARunningContainer) {
  addContainer("web", oci::Status::Running, getpid());
  EXPECT_EQ(errorOf([&] { runtime().remove("web", false); }),
            "cannot delete container web that is not stopped: running");
  EXPECT_TRUE(fake.calls().empty());
  EXPECT_TRUE(exists(stateDir("web") + "/state.json"));
  EXPECT_TRUE(exists(vmDirOf("web") + "/console.log"));
}

TEST_F(RuntimeTest, ForcedDeleteStopsARunningContainer) {
  test::SleepingChild monitor;
  addContainer("web", oci::Status::Running, monitor.pid());
  // The real monitor exits when its domain goes away.
  fake.onDestroy = [&](const std::string&) { ::kill(monitor.pid(), SIGKILL); };
  auto start = std::chrono::steady_clock::now();
  runtime().remove("web", true);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ASSERT_FALSE(fake.calls().empty());
  EXPECT_EQ(fake.calls()[0], "destroy runvirt-web");
  EXPECT_FALSE(fake.hasDomain("runvirt-web"));
  EXPECT_FALSE(exists(stateDir("web")));
  EXPECT_FALSE(exists(vmDirOf("web")));
}

TEST_F(RuntimeTest, DeleteWithoutForceStopsACreatedContainer) {
  test::SleepingChild monitor;
  addContainer("web", oci::Status::Created, monitor.pid());
  fake.onDestroy = [&](const std::string&) { ::kill(monitor.pid(), SIGKILL); };
  runtime().remove("web", false);
  EXPECT_FALSE(fake.hasDomain("runvirt-web"));
  EXPECT_FALSE(exists(stateDir("web")));
}

TEST_F(RuntimeTest, DeleteCleansUpEvenWhenDestroyFails) {
  addContainer("web", oci::Status::Stopped, test::deadPid());
  fake.failCall(1, "libvirt went away");
  std::string message = errorOf([&] { runtime().remove("web", false); });
  EXPECT_EQ(message, "destroy VM: libvirt went away");
  EXPECT_FALSE(exists(stateDir("web")));
  EXPECT_FALSE(exists(vmDirOf("web")));
}

TEST_F(RuntimeTest, DeleteRunsPoststopHooksWithTheState) {
  ContainerRecord r = addContainer("web", oci::Status::Stopped, test::deadPid());
  std::string script = dir / "poststop.sh";
  test::writeFile(script, "#!/bin/sh\ncat > " + (dir / "poststop.json") + "\n");
  chmod(script.c_str(), 0755);
  r.hooks = {{"poststart", nlohmann::json::array()},
             {"poststop", nlohmann::json::array({nlohmann::json{{"path", script}}})}};
  StateStore(dir / "root").save(r);
  runtime().remove("web", false);
  auto state = nlohmann::json::parse(test::readFile(dir / "poststop.json"));
  EXPECT_EQ(state["id"], "web");
  EXPECT_EQ(state["status"], "stopped");
  EXPECT_EQ(state["bundle"], dir / "bundle");
}

TEST_F(RuntimeTest, KillOfStoppedContainer) {
  addContainer("web", oci::Status::Running, test::deadPid());
  try {
    runtime().kill("web", SIGKILL, false);
    FAIL() << "kill of a stopped container succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "container not running");
    EXPECT_EQ(e.kind(), ErrorKind::NotRunning);
  }
  EXPECT_TRUE(fake.calls().empty());
}

// Plays the monitor for one request on <vm dir>/control.sock; returns the request it got.
class FakeMonitor {
 public:
  FakeMonitor(const std::string& vmDir, control::Reply reply)
      : server_(control::listen(VmPaths{vmDir}.controlSocket())), thread_([this, reply] {
          pollfd p{server_.get(), POLLIN, 0};
          if (poll(&p, 1, 5000) != 1) return;
          UniqueFd connection(accept4(server_.get(), nullptr, nullptr, SOCK_CLOEXEC));
          if (auto received = control::receiveRequest(connection.get()))
            request_ = control::toJson(received->request);
          control::sendIfConnected(connection.get(), reply);
        }) {}
  ~FakeMonitor() {
    if (thread_.joinable()) thread_.join();
  }
  nlohmann::json request() {
    thread_.join();
    return request_;
  }

 private:
  UniqueFd server_;
  nlohmann::json request_;
  std::thread thread_;
};

TEST_F(RuntimeTest, KillIsForwardedToTheMonitor) {
  addContainer("web", oci::Status::Running, getpid());
  FakeMonitor monitor(vmDirOf("web"), control::Done{});
  runtime().kill("web", SIGTERM, true);
  EXPECT_EQ(
      monitor.request(),
      (nlohmann::json{
          {"version", control::kVersion}, {"type", "kill"}, {"signal", SIGTERM}, {"all", true}}));
  EXPECT_TRUE(fake.calls().empty());
}

TEST_F(RuntimeTest, KillReportsTheMonitorsError) {
  addContainer("web", oci::Status::Running, getpid());
  FakeMonitor monitor(vmDirOf("web"), control::Failed{"no such process"});
  EXPECT_EQ(errorOf([&] { runtime().kill("web", SIGUSR1, false); }), "no such process");
}

TEST_F(RuntimeTest, SigkillWithoutAMonitorStopsTheVmFromTheHost) {
  test::SleepingChild monitor;  // alive, but it never opened its control socket
  addContainer("web", oci::Status::Running, monitor.pid());
  fake.onDestroy = [&](const std::string&) { ::kill(monitor.pid(), SIGKILL); };
  EXPECT_EQ(errorOf([&] { runtime().kill("web", SIGTERM, false); }), "container not running");
  EXPECT_TRUE(fake.calls().empty());
  runtime().kill("web", SIGKILL, false);
  EXPECT_EQ(fake.calls(), std::vector<std::string>{"destroy runvirt-web"});
  EXPECT_EQ(runtime().state("web").status, oci::Status::Stopped);
}

TEST_F(RuntimeTest, StartNeedsACreatedContainer) {
  addContainer("stopped", oci::Status::Created, test::deadPid());
  addContainer("running", oci::Status::Running, getpid());
  addContainer("paused", oci::Status::Paused, getpid());
  EXPECT_EQ(errorOf([&] { runtime().start("stopped"); }),
            "cannot start a container that has stopped");
  EXPECT_EQ(errorOf([&] { runtime().start("running"); }),
            "cannot start an already running container");
  EXPECT_EQ(errorOf([&] { runtime().start("paused"); }),
            "cannot start a container in the paused state");
  EXPECT_EQ(errorOf([&] { runtime().start("ghost"); }), "container does not exist");
}

TEST_F(RuntimeTest, StartAsksTheMonitor) {
  addContainer("web", oci::Status::Created, getpid());
  FakeMonitor monitor(vmDirOf("web"), control::Started{1});
  runtime().start("web");
  EXPECT_EQ(monitor.request(), (nlohmann::json{{"version", control::kVersion}, {"type", "start"}}));
}

TEST_F(RuntimeTest, ProcessesAreTheMonitorsHostPids) {
  addContainer("web", oci::Status::Running, getpid());
  FakeMonitor monitor(vmDirOf("web"), control::HostPids{{10, 11}});
  EXPECT_EQ(runtime().processes("web"), (std::vector<int>{10, 11}));
  EXPECT_EQ(monitor.request(),
            (nlohmann::json{{"version", control::kVersion}, {"type", "list_host_pids"}}));
}

TEST_F(RuntimeTest, AnUnexpectedReplyIsAnError) {
  addContainer("web", oci::Status::Running, getpid());
  FakeMonitor monitor(vmDirOf("web"), control::Done{});
  EXPECT_EQ(errorOf([&] { runtime().processes("web"); }),
            "unexpected `done` reply to list_host_pids");
}

TEST_F(RuntimeTest, ProcessesOfAStoppedContainerIsEmpty) {
  addContainer("web", oci::Status::Running, test::deadPid());
  EXPECT_TRUE(runtime().processes("web").empty());
}

TEST_F(RuntimeTest, KillOfMissingContainer) {
  EXPECT_EQ(errorOf([&] { runtime().kill("ghost", SIGTERM, false); }), "container does not exist");
}

TEST_F(RuntimeTest, PauseAndResumeSuspendTheDomainAndStoreTheStatus) {
  addContainer("web", oci::Status::Running, getpid());
  Runtime rt = runtime();
  rt.pause("web");
  EXPECT_EQ(fake.calls(), std::vector<std::string>{"suspend runvirt-web"});
  EXPECT_EQ(fake.domainState("runvirt-web"), DomainState::Paused);
  EXPECT_EQ(storedStatus("web"), oci::Status::Paused);
  EXPECT_EQ(rt.state("web").status, oci::Status::Paused);

  rt.resume("web");
  EXPECT_EQ(fake.calls(), (std::vector<std::string>{"suspend runvirt-web", "resume runvirt-web"}));
  EXPECT_EQ(fake.domainState("runvirt-web"), DomainState::Running);
  EXPECT_EQ(storedStatus("web"), oci::Status::Running);
}

TEST_F(RuntimeTest, PauseNeedsARunningContainer) {
  addContainer("stopped", oci::Status::Running, test::deadPid());
  addContainer("paused", oci::Status::Paused, getpid());
  EXPECT_EQ(errorOf([&] { runtime().pause("stopped"); }), "container not running");
  EXPECT_EQ(errorOf([&] { runtime().pause("paused"); }), "container not running");
  EXPECT_EQ(errorOf([&] { runtime().pause("ghost"); }), "container does not exist");
  EXPECT_TRUE(fake.calls().empty());
}

TEST_F(RuntimeTest, ResumeNeedsAPausedContainer) {
  addContainer("web", oci::Status::Running, getpid());
  EXPECT_EQ(errorOf([&] { runtime().resume("web"); }), "container not paused");
  EXPECT_TRUE(fake.calls().empty());
}

TEST_F(RuntimeTest, FailedSuspendLeavesTheStatusAlone) {
  addContainer("web", oci::Status::Running, getpid());
  fake.failCall(1);
  EXPECT_EQ(errorOf([&] { runtime().pause("web"); }), "fake hypervisor failure");
  EXPECT_EQ(storedStatus("web"), oci::Status::Running);
}

TEST_F(RuntimeTest, StateReportsTheMonitorPidOnlyWhileAlive) {
  addContainer("live", oci::Status::Running, getpid());
  addContainer("dead", oci::Status::Running, test::deadPid());
  Runtime rt = runtime();
  oci::State live = rt.state("live");
  EXPECT_EQ(live.status, oci::Status::Running);
  EXPECT_EQ(live.pid, getpid());
  EXPECT_EQ(live.bundle, dir / "bundle");
  oci::State dead = rt.state("dead");
  EXPECT_EQ(dead.status, oci::Status::Stopped);
  EXPECT_EQ(dead.pid, 0);
}

TEST_F(RuntimeTest, ListShowsEveryContainerSortedById) {
  addContainer("zeta", oci::Status::Running, getpid());
  addContainer("alpha", oci::Status::Created, test::deadPid());
  auto states = runtime().list();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].id, "alpha");
  EXPECT_EQ(states[0].status, oci::Status::Stopped);
  EXPECT_EQ(states[1].id, "zeta");
  EXPECT_EQ(states[1].status, oci::Status::Running);
}

TEST_F(RuntimeTest, ListOfAnEmptyRoot) { EXPECT_TRUE(runtime().list().empty()); }

TEST_F(RuntimeTest, InvalidIdIsRejectedBeforeAnyPathIsUsed) {
  addContainer("web", oci::Status::Running, getpid());  // the root exists
  std::filesystem::create_directories(dir / "escape");
  EXPECT_EQ(errorOf([&] { runtime().remove("../escape", true); }), "invalid container ID format");
  EXPECT_EQ(errorOf([&] { runtime().pause("../escape"); }), "invalid container ID format");
  EXPECT_EQ(errorOf([&] { runtime().resume("../escape"); }), "invalid container ID format");
  EXPECT_FALSE(exists(dir / "escape/lock"));
}

}  // namespace
}  // namespace runvirt::backend

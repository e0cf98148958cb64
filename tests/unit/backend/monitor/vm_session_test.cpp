// libvirt-backend/monitor/vm_session.cpp: startContainerVm with the fake hypervisor, whose
// domains get a FakeAgent on their agent channel, in a temporary VM directory. The share is
// bind-mounted for real (unit tests run as root) and unmounted by the fixture.
#include "monitor/vm_session.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/log.hpp"
#include "fakes/fake_hypervisor.hpp"
#include "storage/host_mounts.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;
using test::FakeAgent;

class VmSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::writeFile(dir / "guest/vmlinux", "not a kernel");
    test::writeFile(dir / "guest/initrd.img", "not an initrd");
    std::filesystem::create_directories(dir / "bundle/rootfs");
    config.kernel = dir / "guest/vmlinux";
    config.initrd = dir / "guest/initrd.img";
    config.accelerator = AcceleratorChoice::Tcg;  // no KVM probe
    config.vmDir = dir / "vms";
    config.libvirtUri = "test:///fake";
    config.agentTimeoutSeconds = 5;

    record.id = "web";
    record.bundle = dir / "bundle";
    record.rootfs = dir / "bundle/rootfs";
    record.domainName = "runvirt-web";
    record.vmDir = dir / "vms/runvirt-web";

    spec.root.path = "rootfs";
    spec.process.emplace();
    spec.process->args = {"/bin/echo", "hello"};
    spec.process->env = {"PATH=/bin", "GREETING=hi"};
    spec.process->cwd = "/srv";

    fake.serveAgents();
  }

  void TearDown() override {
    // The share's binds are real: undo them before TempDir removes the tree beneath them.
    unmountAllUnder(dir.path());
    EXPECT_TRUE(mountPointsUnder(dir.path()).empty());
  }

  VmSession start(VmNetwork network = {}) {
    return startContainerVm({record, spec, config, dir / "root", std::nullopt, std::move(network),
                             fake.factory()(config.libvirtUri), fake.factory()});
  }

  // Scripts the agent of the next domain before the host can reach it.
  void scriptAgent(std::function<void(FakeAgent&)> script, FakeAgent::Options options = {}) {
    fake.serveAgents(std::move(options), std::move(script));
  }

  FakeAgent& agent() {
    FakeAgent* guest = fake.agent("runvirt-web");
    if (!guest) throw std::runtime_error("no agent was started for runvirt-web");
    return *guest;
  }

  // What the agent got from a host that has since let go of the channel (a failed start drops
  // its session): everything the host sent has been read by then.
  std::vector<agent::Request> requestsOnceClosed() {
    EXPECT_TRUE(agent().waitUntil([](const FakeAgent::Recorded& r) { return r.channelClosed; }));
    return agent().recorded().requests;
  }

  std::string share() const { return dir / "vms/runvirt-web/share"; }

  test::TempDir dir;
  test::FakeHypervisor fake;
  RuntimeConfig config;
  ContainerRecord record;
  oci::Spec spec;
};

TEST_F(VmSessionTest, StartsTheDomainOwnedByTheMonitor) {
  VmSession session = start();
  EXPECT_EQ(fake.connectedUris(), std::vector<std::string>{"test:///fake"});
  EXPECT_EQ(fake.calls(), std::vector<std::string>{"startTransient runvirt-web"});
  ASSERT_EQ(fake.startedXml().size(), 1u);
  const std::string& xml = fake.startedXml()[0];
  EXPECT_TRUE(contains(xml, "<domain type='qemu' "));  // tcg, as configured
  EXPECT_TRUE(contains(xml, "<name>runvirt-web</name>"));
  EXPECT_TRUE(contains(xml, "<kernel>" + config.kernel + "</kernel>"));
  EXPECT_TRUE(contains(xml, "<initrd>" + config.initrd + "</initrd>"));
  EXPECT_TRUE(
      contains(xml, "<source mode='bind' path='" + (dir / "vms/runvirt-web/agent.sock") + "'/>"));
  EXPECT_TRUE(contains(xml, "<source dir='" + share() + "'/>"));
  EXPECT_TRUE(contains(xml, "root='" + (dir / "root") + "'"));
  // Its owner in the domain's metadata: this process.
  VmOwner self = selfAsOwner(VmOwner::Kind::Container, "web", dir / "root");
  EXPECT_TRUE(contains(xml, ownerMetadataXml(self).substr(0, ownerMetadataXml(self).size() - 1)));
  // A teardown knows the domain may exist.
  EXPECT_TRUE(test::exists(dir / "vms/runvirt-web/domain-started"));
  EXPECT_FALSE(contains(xml, "<interface"));
  EXPECT_FALSE(contains(xml, std::string(agent::kDnsChannelName)));
}

TEST_F(VmSessionTest, ShakesHandsThenCreatesTheContainerWithTheSpecsProcess) {
  VmSession session = start();
  auto recorded = agent().recorded();
  EXPECT_EQ(recorded.helloAcks, 1);
  // Without a network, nothing but the container.
  ASSERT_EQ(recorded.requestTypes(), std::vector<std::string>{"create_container"});
  const auto& container = std::get<agent::CreateContainer>(recorded.requests[0].body).container;
  EXPECT_EQ(container.id, "web");
  EXPECT_EQ(container.rootfs, "rootfs");
  EXPECT_EQ(container.process.args, (std::vector<std::string>{"/bin/echo", "hello"}));
  EXPECT_EQ(container.process.env, (std::vector<std::string>{"PATH=/bin", "GREETING=hi"}));
  EXPECT_EQ(container.process.cwd, "/srv");
  EXPECT_TRUE(recorded.protocolErrors.empty());
}

TEST_F(VmSessionTest, BindsTheRootfsIntoTheShare) {
  test::writeFile(dir / "bundle/rootfs/etc/hostname", "web\n");
  VmSession session = start();
  EXPECT_EQ(mountPointsUnder(share()), (std::vector<std::string>{share(), share() + "/rootfs"}));
  EXPECT_EQ(test::readFile(share() + "/rootfs/etc/hostname"), "web\n");
  EXPECT_EQ(access((share() + "/rootfs").c_str(), W_OK), 0);
}

TEST_F(VmSessionTest, AReadOnlyRootIsSealedOnTheHost) {
  spec.root.readonly = true;
  VmSession session = start();
  EXPECT_TRUE(std::get<agent::CreateContainer>(agent().recorded().requests.at(0).body)
                  .container.readonlyRoot);
  int rc = access((share() + "/rootfs").c_str(), W_OK);
  int error = errno;
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(error, EROFS);
}

TEST_F(VmSessionTest, ReturnsASessionConnectedToTheGuest) {
  VmSession session = start();
  EXPECT_EQ(session.domainName, "runvirt-web");
  EXPECT_EQ(session.libvirtUri, "test:///fake");
  EXPECT_EQ(fake.domainState("runvirt-web"), DomainState::Running);
  ASSERT_TRUE(session.agent);
  EXPECT_EQ(session.agent->call(agent::StartContainer{"web"}, 5).pid, 100);
  EXPECT_EQ(agent().recorded().requestTypes(),
            (std::vector<std::string>{"create_container", "start_container"}));
}

TEST_F(VmSessionTest, DestroyEndsTheDomainThroughANewConnection) {
  VmSession session = start();
  session.destroy();
  EXPECT_FALSE(fake.hasDomain("runvirt-web"));
  EXPECT_EQ(fake.connectedUris(), (std::vector<std::string>{"test:///fake", "test:///fake"}));
}

TEST_F(VmSessionTest, ConfiguresTheGuestNetworkBeforeCreatingTheContainer) {
  VmNetwork network;
  network.interfaces = {{"rvtap0", "02:42:ac:11:00:02"}};
  std::vector<std::string> callsWhenAttached;
  network.afterDomainStart = [&] { callsWhenAttached = fake.calls(); };
  network.guestConfig =
      agent::ConfigureNetwork{{{"eth0", "02:42:ac:11:00:02", 1500, {"172.17.0.2/16"}}},
                              {{"default", "172.17.0.1", "eth0"}},
                              false};
  VmSession session = start(std::move(network));
  // The taps were handed over once QEMU held them.
  EXPECT_EQ(callsWhenAttached, std::vector<std::string>{"startTransient runvirt-web"});
  EXPECT_TRUE(contains(fake.startedXml().at(0), "<target dev='rvtap0' managed='no'/>"));
  auto recorded = agent().recorded();
  ASSERT_EQ(recorded.requestTypes(),
            (std::vector<std::string>{"configure_network", "create_container"}));
  const auto& configured = std::get<agent::ConfigureNetwork>(recorded.requests[0].body);
  ASSERT_EQ(configured.interfaces.size(), 1u);
  EXPECT_EQ(configured.interfaces[0].addresses, std::vector<std::string>{"172.17.0.2/16"});
  ASSERT_EQ(configured.routes.size(), 1u);
  EXPECT_EQ(configured.routes[0].gateway, "172.17.0.1");
}

TEST_F(VmSessionTest, AGuestNetworkErrorNamesTheStep) {
  scriptAgent([](FakeAgent& guest) {
    guest.answer("configure_network", FakeAgent::Answer::error("no NIC 02:42"));
  });
  VmNetwork network;
  network.guestConfig = agent::ConfigureNetwork{};
  EXPECT_EQ(errorOf([&] { start(std::move(network)); }),
            "configure the guest's network: no NIC 02:42");
  EXPECT_EQ(agent().recorded().requestTypes(), std::vector<std::string>{"configure_network"});
}

TEST_F(VmSessionTest, ACreateContainerErrorHasRuncsPrefix) {
  scriptAgent([](FakeAgent& guest) {
    guest.answer("create_container",
                 FakeAgent::Answer::error(R"(exec: "/bin/echo": no such file or directory)"));
  });
  EXPECT_EQ(errorOf([&] { start(); }),
            R"(unable to start container process: exec: "/bin/echo": no such file or directory)");
  // What was set up stays for the caller's teardown, which `delete` shares.
  EXPECT_TRUE(fake.hasDomain("runvirt-web"));
  EXPECT_FALSE(mountPointsUnder(share()).empty());
}

TEST_F(VmSessionTest, AGuestDyingDuringCreateFailsAtOnce) {
  scriptAgent(
      [](FakeAgent& guest) { guest.answer("create_container", FakeAgent::Answer::close()); });
  double begin = log::monotonicSeconds();
  EXPECT_EQ(errorOf([&] { start(); }),
            "unable to start container process: the VM closed the agent channel");
  EXPECT_LT(log::monotonicSeconds() - begin, 5);
}

TEST_F(VmSessionTest, AnAgentThatNeverSaysHelloFailsWithinTheAgentTimeout) {
  scriptAgent({}, {.sayHello = false});
  config.agentTimeoutSeconds = 1;
  double begin = log::monotonicSeconds();
  try {
    start();
    FAIL() << "a VM whose agent never said hello started";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "guest agent: the guest agent did not answer within 1 s");
    EXPECT_EQ(e.kind(), ErrorKind::Timeout);
  }
  double waited = log::monotonicSeconds() - begin;
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 4);
  EXPECT_TRUE(requestsOnceClosed().empty());
}

TEST_F(VmSessionTest, AWrongGuestArchitectureStopsBeforeAnyRequest) {
  FakeAgent::Options foreign;
  foreign.hello.arch = "riscv64-or-whatever";
  scriptAgent({}, foreign);
  EXPECT_TRUE(contains(errorOf([&] { start(); }),
                       "guest agent: guest architecture `riscv64-or-whatever` differs"));
  EXPECT_TRUE(requestsOnceClosed().empty());
  EXPECT_EQ(agent().recorded().helloAcks, 0);
}

TEST_F(VmSessionTest, AMissingGuestKernelFailsBeforeTheDomainStarts) {
  config.kernel = dir / "guest/missing";
  EXPECT_EQ(errorOf([&] { start(); }),
            "guest kernel " + config.kernel +
                " is missing: install runvirt (`make install`) or set it in config.toml");
  EXPECT_TRUE(fake.calls().empty());
}

TEST_F(VmSessionTest, AFailedDomainStartNamesTheStep) {
  fake.failCall(1, "libvirt says no");
  EXPECT_EQ(errorOf([&] { start(); }), "start VM: libvirt says no");
  EXPECT_EQ(fake.agent("runvirt-web"), nullptr);
}

}  // namespace
}  // namespace runvirt::backend

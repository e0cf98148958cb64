// tests/fakes: what other tests rely on beyond agent_client_test and vm_session_test. The fake
// hypervisor finds the agent channel among a domain's channels; the fake agent refuses requests
// before the host's hello and kills processes that die of signals.
#include "fakes/fake_agent.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "fakes/fake_hypervisor.hpp"
#include "monitor/agent_client.hpp"
#include "unit/test_util.hpp"

namespace runvirt::test {
namespace {

using backend::AgentClient;

// Reads until the guest closes the channel; false when it is still open after `timeoutSeconds`.
bool readsEndOfChannel(AgentClient& client, double timeoutSeconds = 5) {
  pollfd p{client.fd(), POLLIN, 0};
  for (int waited = 0; waited < timeoutSeconds * 1000; waited += 10) {
    if (poll(&p, 1, 10) == 1 && !client.readAvailable()) return true;
  }
  return false;
}

TEST(FakeHypervisor, ServesAnAgentOnTheDomainsAgentChannel) {
  TempDir dir;
  FakeHypervisor fake;
  fake.serveAgents({}, [](FakeAgent& guest) {
    guest.answer("list_processes", FakeAgent::Answer::error("scripted"));
  });
  // The DNS channel comes first here: the fake must pick the channel by its target name.
  fake.startTransient(
      "<domain type='qemu'>\n  <name>runvirt-x</name>\n  <devices>\n"
      "    <channel type='unix'>\n      <source mode='bind' path='" +
      (dir / "dns.sock") +
      "'/>\n"
      "      <target type='virtio' name='org.runvirt.dns.0'/>\n    </channel>\n"
      "    <channel type='unix'>\n      <source mode='bind' path='" +
      (dir / "agent.sock") +
      "'/>\n"
      "      <target type='virtio' name='org.runvirt.agent.0'/>\n    </channel>\n"
      "  </devices>\n</domain>\n");
  ASSERT_NE(fake.agent("runvirt-x"), nullptr);
  EXPECT_FALSE(exists(dir / "dns.sock"));
  AgentClient client = AgentClient::connect(dir / "agent.sock");
  client.handshake(5);
  EXPECT_EQ(errorOf([&] { client.call(agent::ListProcesses{"x"}, 5); }), "scripted");
  // QEMU goes away with the domain, and the guest's end of the channel with it.
  EXPECT_TRUE(fake.destroy("runvirt-x"));
  EXPECT_TRUE(readsEndOfChannel(client));
  EXPECT_EQ(fake.agent("runvirt-x")->recorded().requestTypes(),
            std::vector<std::string>{"list_processes"});
}

TEST(FakeHypervisor, ADomainWithoutAnAgentChannelIsRefusedWhenServingAgents) {
  FakeHypervisor fake;
  fake.startTransient("<domain><name>plain</name></domain>");  // no agents asked for: fine
  fake.serveAgents();
  EXPECT_EQ(errorOf([&] { fake.startTransient("<domain><name>runvirt-x</name></domain>"); }),
            "fake hypervisor: domain `runvirt-x` has no agent channel");
}

TEST(FakeAgent, RefusesRequestsBeforeTheHostsHello) {
  FakeAgent guest;
  UniqueFd host = guest.takeHostEnd();
  std::string request =
      agent::encodeMessage(agent::toJson(agent::HostMessage{agent::Request{1, agent::Shutdown{}}}));
  ASSERT_EQ(write(host.get(), request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  EXPECT_TRUE(
      guest.waitUntil([](const FakeAgent::Recorded& r) { return !r.protocolErrors.empty(); }));
  auto recorded = guest.recorded();
  EXPECT_EQ(recorded.protocolErrors, std::vector<std::string>{"request before hello"});
  EXPECT_TRUE(recorded.requests.empty());
}

TEST(FakeAgent, AProcessThatDiesOfSignalsExitsWhenSignalled) {
  FakeAgent guest;
  guest.onStart({"", "", std::nullopt, 0, true});
  AgentClient client = AgentClient::adopt(guest.takeHostEnd());
  client.handshake(5);
  client.call(agent::StartContainer{"web"}, 5);
  EXPECT_EQ(client.call(agent::ListProcesses{"web"}, 5).pids, std::vector<int>{100});
  client.call(agent::SignalProcess{agent::kInitProcess, SIGTERM, false}, 5);
  EXPECT_TRUE(client.call(agent::ListProcesses{"web"}, 5).pids.empty());
  auto event = client.nextEvent();
  ASSERT_TRUE(event);
  const auto* exited = std::get_if<agent::ProcessExited>(&*event);
  ASSERT_NE(exited, nullptr);
  EXPECT_EQ(exited->process, agent::kInitProcess);
  EXPECT_EQ(exited->signal, SIGTERM);
  EXPECT_FALSE(client.nextEvent());
}

}  // namespace
}  // namespace runvirt::test

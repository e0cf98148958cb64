// libvirt-backend/monitor/agent_client.cpp: the host end of the agent channel, against a FakeAgent
// in its own thread (tests/fakes/fake_agent.hpp): the handshake, blocking calls, the monitor's
// non-blocking use, and guests that break the protocol.
#include "monitor/agent_client.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <functional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "fakes/fake_agent.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;
using test::FakeAgent;

std::string hostArch() {
  utsname host{};
  uname(&host);
  return host.machine;
}

// One line per event, so that a failed comparison shows what arrived.
std::string describe(const AgentEvent& event) {
  if (const auto* chunk = std::get_if<OutputChunk>(&event)) {
    const char* stream = chunk->stream == agent::Stream::Stderr ? " stderr " : " stdout ";
    return "output " + std::to_string(chunk->process) + stream + chunk->bytes;
  }
  if (const auto* exited = std::get_if<agent::ProcessExited>(&event)) {
    return "exit " + std::to_string(exited->process) +
           (exited->signal > 0 ? " signal " + std::to_string(exited->signal)
                               : " code " + std::to_string(exited->code));
  }
  const auto& response = std::get<agent::Response>(event);
  return "response " + std::to_string(response.id) +
         (response.error.empty() ? "" : " error " + response.error) +
         (response.pid ? " pid " + std::to_string(*response.pid) : "");
}

std::vector<std::string> takeEvents(AgentClient& client) {
  std::vector<std::string> events;
  while (auto event = client.nextEvent()) events.push_back(describe(*event));
  return events;
}

// Drives the client as the monitor's poll loop does (flush when the socket takes more, read what
// arrived) until `done` holds for the events so far or the guest closed the channel.
struct Pumped {
  std::vector<std::string> events;
  bool open = true;  // false: readAvailable() saw the end of the channel
};
Pumped pump(AgentClient& client, const std::function<bool(const Pumped&)>& done,
            double timeoutSeconds = 5) {
  Pumped pumped;
  double deadline = log::monotonicSeconds() + timeoutSeconds;
  while (pumped.open && !done(pumped)) {
    double left = deadline - log::monotonicSeconds();
    if (left <= 0) {
      ADD_FAILURE() << "no progress within " << timeoutSeconds << " s";
      break;
    }
    pollfd p{client.fd(), static_cast<short>(POLLIN | (client.pendingOutput() ? POLLOUT : 0)), 0};
    if (poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
    client.flush();
    pumped.open = client.readAvailable();
    for (auto& event : takeEvents(client)) pumped.events.push_back(std::move(event));
  }
  return pumped;
}

// A client on one end of a socketpair, the fake guest on the other.
AgentClient clientOf(FakeAgent& guest) { return AgentClient::adopt(guest.takeHostEnd()); }

AgentClient connectedClientOf(FakeAgent& guest) {
  AgentClient client = clientOf(guest);
  client.handshake(5);
  return client;
}

FakeAgent::Options helloWith(const std::function<void(agent::Hello&)>& change) {
  FakeAgent::Options options;
  change(options.hello);
  return options;
}

TEST(AgentClient, HandshakeAcceptsTheGuestsHelloAndAnswersIt) {
  FakeAgent guest;
  AgentClient client = clientOf(guest);
  agent::Hello hello = client.handshake(5);
  EXPECT_EQ(hello.version, agent::kProtocolVersion);
  EXPECT_EQ(hello.arch, hostArch());
  EXPECT_EQ(hello.kernel, "6.1.0-runvirt-fake");
  EXPECT_DOUBLE_EQ(hello.uptime, 0.25);
  EXPECT_TRUE(guest.waitUntil([](const FakeAgent::Recorded& r) { return r.helloAcks == 1; }));
  EXPECT_TRUE(guest.recorded().protocolErrors.empty());
}

TEST(AgentClient, AdoptMakesTheSocketNonBlocking) {
  FakeAgent guest;
  AgentClient client = connectedClientOf(guest);
  ASSERT_TRUE(fcntl(client.fd(), F_GETFL) & O_NONBLOCK);
  // Nothing to read: returns at once instead of waiting for the guest.
  EXPECT_TRUE(client.readAvailable());
  EXPECT_FALSE(client.nextEvent());
}

TEST(AgentClient, ConnectReachesAnAgentListeningOnASocketPath) {
  test::TempDir dir;
  FakeAgent guest(dir / "agent.sock");
  AgentClient client = AgentClient::connect(dir / "agent.sock");
  EXPECT_EQ(client.handshake(5).arch, hostArch());
  EXPECT_EQ(client.call(agent::StartContainer{"web"}, 5).pid, 100);
  EXPECT_EQ(guest.recorded().requestTypes(), std::vector<std::string>{"start_container"});
}

TEST(AgentClient, ConnectWithoutAListenerFails) {
  test::TempDir dir;
  EXPECT_TRUE(
      contains(errorOf([&] { AgentClient::connect(dir / "agent.sock"); }),
               "connect to agent socket " + (dir / "agent.sock") + ": No such file or directory"));
}

TEST(AgentClient, HandshakeTimesOutWhenTheGuestNeverSaysHello) {
  FakeAgent guest({.sayHello = false});
  AgentClient client = clientOf(guest);
  double start = log::monotonicSeconds();
  try {
    client.handshake(1);
    FAIL() << "handshake without a hello succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "the guest agent did not answer within 1 s");
    EXPECT_EQ(e.kind(), ErrorKind::Timeout);
  }
  double waited = log::monotonicSeconds() - start;
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 4);
  EXPECT_EQ(guest.recorded().helloAcks, 0);
}

// The host must not answer a hello it refuses: wait for the guest to read everything the client
// sent (it has, once it saw the channel close) before looking at what it got.
int helloAcksAfterClose(FakeAgent& guest, std::optional<AgentClient>& client) {
  client.reset();
  EXPECT_TRUE(guest.waitUntil([](const FakeAgent::Recorded& r) { return r.channelClosed; }));
  return guest.recorded().helloAcks;
}

TEST(AgentClient, HandshakeRefusesAnotherProtocolVersion) {
  FakeAgent guest(
      helloWith([](agent::Hello& hello) { hello.version = agent::kProtocolVersion + 1; }));
  std::optional<AgentClient> client = clientOf(guest);
  EXPECT_EQ(errorOf([&] { client->handshake(5); }),
            "guest agent speaks protocol " + std::to_string(agent::kProtocolVersion + 1) +
                ", runvirt needs " + std::to_string(agent::kProtocolVersion) +
                ": rebuild the guest image");
  EXPECT_EQ(helloAcksAfterClose(guest, client), 0);
}

TEST(AgentClient, HandshakeRefusesAnotherArchitecture) {
  std::string other = hostArch() == "s390x" ? "x86_64" : "s390x";
  FakeAgent guest(helloWith([&](agent::Hello& hello) { hello.arch = other; }));
  std::optional<AgentClient> client = clientOf(guest);
  EXPECT_EQ(errorOf([&] { client->handshake(5); }),
            "guest architecture `" + other + "` differs from the host's `" + hostArch() + "`");
  EXPECT_EQ(helloAcksAfterClose(guest, client), 0);
}

TEST(AgentClient, CallsMatchTheirResponsesWhileOutputAndExitsQueueUp) {
  FakeAgent guest;
  AgentClient client = connectedClientOf(guest);
  EXPECT_EQ(client.call(agent::StartContainer{"web"}, 5).pid, 100);
  EXPECT_EQ(client.call(agent::ExecProcess{"web", 1, {}}, 5).pid, 101);
  // Frames the guest sends before its next response: the call must step over them, and keep them.
  guest.sendOutput(1, agent::Stream::Stdout, "from exec");
  guest.sendOutput(0, agent::Stream::Stderr, "from init");
  guest.sendExit(1, 7);
  agent::Response list = client.call(agent::ListProcesses{"web"}, 5);
  EXPECT_EQ(list.id, 3u);
  EXPECT_EQ(list.pids, std::vector<int>{100});  // the exec'd process has exited
  EXPECT_EQ(takeEvents(client),
            (std::vector<std::string>{"output 1 stdout from exec", "output 0 stderr from init",
                                      "exit 1 code 7"}));
  auto recorded = guest.recorded();
  EXPECT_EQ(recorded.requestTypes(),
            (std::vector<std::string>{"start_container", "exec_process", "list_processes"}));
  ASSERT_EQ(recorded.requests.size(), 3u);
  EXPECT_EQ(recorded.requests[0].id, 1u);
  EXPECT_EQ(recorded.requests[2].id, 3u);
}

TEST(AgentClient, AnErrorResponseBecomesAnErrorWithTheGuestsMessage) {
  FakeAgent guest;
  guest.answer("create_container",
               FakeAgent::Answer::error(R"(exec: "nope": executable file not found in $PATH)"));
  AgentClient client = connectedClientOf(guest);
  EXPECT_EQ(errorOf([&] { client.call(agent::CreateContainer{}, 5); }),
            R"(exec: "nope": executable file not found in $PATH)");
  // The channel stays usable.
  EXPECT_EQ(client.call(agent::StartContainer{"web"}, 5).pid, 100);
  EXPECT_TRUE(takeEvents(client).empty());
}

TEST(AgentClient, CallTimesOutWhenTheGuestDoesNotAnswer) {
  FakeAgent guest;
  guest.answer("list_processes", FakeAgent::Answer::silence());
  AgentClient client = connectedClientOf(guest);
  try {
    client.call(agent::ListProcesses{"web"}, 0.3);
    FAIL() << "a call without an answer succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "agent: no answer to list_processes");
    EXPECT_EQ(e.kind(), ErrorKind::Timeout);
  }
}

TEST(AgentClient, NonBlockingRequestsStdinAndOutput) {
  FakeAgent guest;
  guest.onExec({"out", "err", 0, 0, false});
  AgentClient client = connectedClientOf(guest);
  std::uint64_t id = client.send(agent::ExecProcess{"web", 1, {}});
  // Many data frames, more than the socket takes at once: flushed as the guest drains it.
  std::string input;
  for (std::size_t i = 0; i < 16 * agent::kMaxDataChunk + 10; ++i)
    input += static_cast<char>(i % 251);
  client.sendStdin(1, input);
  client.send(agent::CloseStdin{1});
  Pumped pumped = pump(client, [](const Pumped& p) { return p.events.size() >= 5; });
  EXPECT_TRUE(pumped.open);
  EXPECT_EQ(pumped.events,
            (std::vector<std::string>{"response " + std::to_string(id) + " pid 101",
                                      "output 1 stdout out", "output 1 stderr err", "exit 1 code 0",
                                      "response " + std::to_string(id + 1)}));
  EXPECT_EQ(client.pendingOutput(), 0u);
  auto recorded = guest.recorded();
  EXPECT_EQ(recorded.stdinBytes[1], input);
  EXPECT_EQ(recorded.requestTypes(), (std::vector<std::string>{"exec_process", "close_stdin"}));
}

// Without a bound, a guest that keeps the socket full kept the caller reading: the monitor's loop
// could neither apply its output limit nor serve anything else meanwhile.
TEST(AgentClient, ReadAvailableReadsAtMostItsLimitPerCall) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd guestEnd(fds[0]);
  AgentClient client = AgentClient::adopt(UniqueFd(fds[1]));
  // All of it in the socket before the client reads: room for it needs CAP_NET_ADMIN.
  int room = 16 << 20;
  if (setsockopt(guestEnd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof room) < 0) {
    GTEST_SKIP() << "cannot enlarge the socket buffer (not root?)";
  }
  std::string frames;
  std::size_t sent = 0;
  for (char letter = 'a'; sent < 3 * AgentClient::kMaxReadPerCall;
       ++letter, sent += agent::kMaxDataChunk) {
    frames +=
        agent::encodeData(0, agent::Stream::Stdout, std::string(agent::kMaxDataChunk, letter));
  }
  ASSERT_EQ(::send(guestEnd.get(), frames.data(), frames.size(), MSG_DONTWAIT),
            static_cast<ssize_t>(frames.size()));

  std::string output;
  auto readOnce = [&] {
    EXPECT_TRUE(client.readAvailable());
    std::size_t before = output.size();
    while (auto event = client.nextEvent()) output += std::get<OutputChunk>(*event).bytes;
    return output.size() - before;
  };
  std::size_t first = readOnce();
  EXPECT_GT(first, 0u);
  EXPECT_LE(first, AgentClient::kMaxReadPerCall);
  while (output.size() < sent) ASSERT_GT(readOnce(), 0u) << "the rest stays readable";
  EXPECT_EQ(output.size(), sent);
  EXPECT_EQ(output.substr(0, 2), "aa");
  EXPECT_EQ(output.back(),
            static_cast<char>('a' + sent / agent::kMaxDataChunk - 1));  // in order, to the end
}

TEST(AgentClient, OutputSentBeforeTheGuestWentAwayIsStillRead) {
  FakeAgent guest;
  AgentClient client = connectedClientOf(guest);
  guest.sendOutput(0, agent::Stream::Stdout, "last words");
  guest.sendKilled(0, SIGKILL);
  guest.closeChannel();
  Pumped pumped = pump(client, [](const Pumped&) { return false; });
  EXPECT_FALSE(pumped.open);
  EXPECT_EQ(pumped.events,
            (std::vector<std::string>{"output 0 stdout last words", "exit 0 signal 9"}));
}

// The monitor's loop writes stdin, signals and resizes from several handlers; a write to a guest
// that has gone used to throw EPIPE out of whichever came first, before the end was read.
TEST(AgentClient, WritesToAGuestThatHasGoneAreDroppedAndTheEndIsRead) {
  FakeAgent guest;
  AgentClient client = connectedClientOf(guest);
  guest.closeChannel();
  ASSERT_TRUE(guest.waitUntil([](const FakeAgent::Recorded& r) { return r.channelClosed; }));
  client.sendStdin(0, "typed too late");
  client.send(agent::SignalProcess{0, SIGTERM, false});
  EXPECT_EQ(client.pendingOutput(), 0u);
  EXPECT_FALSE(client.readAvailable());
  EXPECT_EQ(errorOf([&] { client.call(agent::ListProcesses{"web"}, 5); }),
            "the VM closed the agent channel");
}

TEST(AgentClient, AResponseJustBeforeTheChannelClosesStillAnswersTheCall) {
  FakeAgent guest;  // answers shutdown, then powers off: the response and the end arrive together
  AgentClient client = connectedClientOf(guest);
  EXPECT_TRUE(client.call(agent::Shutdown{}, 5).error.empty());
  EXPECT_FALSE(pump(client, [](const Pumped&) { return false; }).open);
}

TEST(AgentClient, AGuestThatDiesMidCallFailsTheCallAtOnce) {
  FakeAgent guest;
  guest.answer("create_container", FakeAgent::Answer::close());
  AgentClient client = connectedClientOf(guest);
  double start = log::monotonicSeconds();
  EXPECT_EQ(errorOf([&] { client.call(agent::CreateContainer{}, 30); }),
            "the VM closed the agent channel");
  EXPECT_LT(log::monotonicSeconds() - start, 5);
  EXPECT_FALSE(client.readAvailable());
}

// Bytes that are not the protocol, in place of the response a call waits for.
struct BadFrame {
  const char* name;
  std::string bytes;
  std::string error;
};
void PrintTo(const BadFrame& frame, std::ostream* out) { *out << frame.name; }

class AgentClientBadFrame : public ::testing::TestWithParam<BadFrame> {};

TEST_P(AgentClientBadFrame, FailsTheCall) {
  FakeAgent guest;
  guest.answer("list_processes", FakeAgent::Answer::raw(GetParam().bytes));
  AgentClient client = connectedClientOf(guest);
  EXPECT_EQ(errorOf([&] { client.call(agent::ListProcesses{"web"}, 5); }), GetParam().error);
}

TEST_P(AgentClientBadFrame, FailsReadAvailable) {
  FakeAgent guest;
  AgentClient client = connectedClientOf(guest);
  guest.sendRaw(GetParam().bytes);
  EXPECT_EQ(errorOf([&] { pump(client, [](const Pumped&) { return false; }); }), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Garbage, AgentClientBadFrame,
    ::testing::Values(
        BadFrame{"UnknownFrameType", FakeAgent::unknownFrameType(),
                 "peer sent unknown frame type 7"},
        BadFrame{"OversizedFrame", FakeAgent::oversizedFrameHeader(),
                 "peer sent a frame of " + std::to_string(agent::kMaxFramePayload + 1) +
                     " bytes (limit " + std::to_string(agent::kMaxFramePayload) + ")"},
        BadFrame{"Text", "this is not a frame\n",
                 "peer sent a frame of " + std::to_string(0x74686973) + " bytes (limit " +
                     std::to_string(agent::kMaxFramePayload) + ")"},
        BadFrame{"MalformedJson", FakeAgent::malformedJson(), "message is not valid JSON"},
        BadFrame{"UnknownMessageType", agent::encodeMessage({{"type", "surprise"}}),
                 "unknown message type `surprise`"},
        BadFrame{"DataOnStdin", agent::encodeData(0, agent::Stream::Stdin, "x"),
                 "agent sent data on stdin"},
        BadFrame{"ShortDataFrame", agent::encodeFrame(agent::FrameType::Data, "abc"),
                 "data frame too short"},
        // The monitor exits like the guest says its init did: only what a process can end with.
        BadFrame{
            "ExitByAStopSignal",
            agent::encodeMessage({{"type", "exit"}, {"process", 0}, {"signal", SIGSTOP}}),
            "agent sent an impossible exit of process 0: signal 19 is not one a process dies of"},
        BadFrame{
            "ExitByAnIgnoredSignal",
            agent::encodeMessage({{"type", "exit"}, {"process", 3}, {"signal", SIGCHLD}}),
            "agent sent an impossible exit of process 3: signal 17 is not one a process dies of"},
        BadFrame{
            "ExitBySignal65",
            agent::encodeMessage({{"type", "exit"}, {"process", 0}, {"signal", 65}}),
            "agent sent an impossible exit of process 0: signal 65 is not one a process dies of"},
        BadFrame{"ExitCode256",
                 agent::encodeMessage({{"type", "exit"}, {"process", 0}, {"code", 256}}),
                 "agent sent an impossible exit of process 0: exit code 256 is not in 0-255"},
        BadFrame{"NegativeExitCode",
                 agent::encodeMessage({{"type", "exit"}, {"process", 0}, {"code", -1}}),
                 "agent sent an impossible exit of process 0: exit code -1 is not in 0-255"},
        BadFrame{"ExitCodeAndSignal",
                 agent::encodeMessage(
                     {{"type", "exit"}, {"process", 0}, {"code", 1}, {"signal", SIGTERM}}),
                 "agent sent an impossible exit of process 0: an exit code (1) and a signal (15)"}),
    [](const ::testing::TestParamInfo<BadFrame>& info) { return std::string(info.param.name); });

// Kept as an event, not an error: the monitor sends signals, resizes and close_stdin without
// waiting, and their responses reach its loop as events that it logs; the client does not track
// which ids are still open, so a response nobody waits for is one more such event. It does not
// satisfy a call waiting for another id.
TEST(AgentClient, AResponseToAnUnknownIdIsKeptAsAnEvent) {
  FakeAgent guest;
  AgentClient client = connectedClientOf(guest);
  guest.sendMessage(agent::Response{999, "stray", std::nullopt, {}});
  agent::Response response = client.call(agent::ListProcesses{"web"}, 5);
  EXPECT_EQ(response.id, 1u);
  EXPECT_TRUE(response.error.empty());
  EXPECT_EQ(takeEvents(client), std::vector<std::string>{"response 999 error stray"});
}

// A guest says hello once per boot. Each further hello used to wait in the client for a handshake
// nobody would do, a queue a hostile guest could grow without limit: it is a protocol error now.
TEST(AgentClient, AFloodOfHellosIsAProtocolError) {
  FakeAgent guest({.repeatedHellos = 1000});
  AgentClient client = clientOf(guest);
  EXPECT_EQ(errorOf([&] {
              client.handshake(5);                          // may already meet the second hello
              client.call(agent::ListProcesses{"web"}, 5);  // reads past the hellos to its response
            }),
            "the guest agent said hello twice");
}

TEST(AgentClient, AHelloAfterTheHandshakeIsAProtocolError) {
  FakeAgent guest;
  AgentClient client = connectedClientOf(guest);
  guest.sendMessage(FakeAgent::hostHello());
  EXPECT_EQ(errorOf([&] { pump(client, [](const Pumped&) { return false; }); }),
            "the guest agent said hello twice");
}

// Issue 11, item 2: what the guest sends while a call waits used to be queued without bound. A
// flood breaks the channel once the bound is reached (the monitor then destroys the VM), and the
// client never holds more than the bound.
TEST(AgentClient, AFloodOfOutputWhileACallWaitsBreaksTheChannelAtTheBound) {
  FakeAgent guest;
  guest.answer("list_processes", FakeAgent::Answer::silence());
  AgentClient client = connectedClientOf(guest);
  std::string chunk(agent::kMaxDataChunk, 'x');
  for (std::size_t sent = 0; sent <= AgentClient::kMaxQueuedBytes; sent += chunk.size())
    guest.sendOutput(0, agent::Stream::Stdout, chunk);
  std::string error = errorOf([&] { client.call(agent::ListProcesses{"web"}, 30); });
  EXPECT_TRUE(contains(error, "the guest agent sent more than 64 MiB")) << error;
  EXPECT_LE(client.queuedBytes(), AgentClient::kMaxQueuedBytes);
  // And it stays broken for the monitor's loop, which tears the VM down on it.
  EXPECT_TRUE(contains(errorOf([&] { client.readAvailable(); }), "a flood")) << error;
}

TEST(AgentClient, AFloodOfEmptyChunksOrStrayResponsesIsBoundedToo) {
  for (bool responses : {false, true}) {
    FakeAgent guest;
    guest.answer("list_processes", FakeAgent::Answer::silence());
    AgentClient client = connectedClientOf(guest);
    std::size_t frames = AgentClient::kMaxQueuedBytes / AgentClient::kEventOverhead + 1;
    std::string emptyChunks;
    for (std::size_t i = 0; i < frames; ++i) {
      if (responses)
        guest.sendMessage(agent::Response{1000 + i, "", std::nullopt, {}});
      else
        emptyChunks += agent::encodeData(0, agent::Stream::Stdout, "");
    }
    if (!responses) guest.sendRaw(std::move(emptyChunks));
    EXPECT_TRUE(contains(errorOf([&] { client.call(agent::ListProcesses{"web"}, 20); }),
                         "the guest agent sent more than"))
        << (responses ? "responses" : "empty chunks");
    EXPECT_LE(client.queuedBytes(), AgentClient::kMaxQueuedBytes);
  }
}

// What the host takes off the queue frees its share of the bound: a long-lived, chatty container
// is not a flood.
TEST(AgentClient, EventsTakenOffTheQueueFreeTheirShare) {
  FakeAgent guest;
  AgentClient client = connectedClientOf(guest);
  guest.sendOutput(0, agent::Stream::Stdout, "hello");
  EXPECT_EQ(client.call(agent::ListProcesses{"web"}, 5).id, 1u);
  EXPECT_EQ(client.queuedBytes(), 5 + AgentClient::kEventOverhead);
  EXPECT_EQ(takeEvents(client), std::vector<std::string>{"output 0 stdout hello"});
  EXPECT_EQ(client.queuedBytes(), 0u);
}

}  // namespace
}  // namespace runvirt::backend

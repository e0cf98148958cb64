// guest/protocol/src/protocol.cpp: every message has a golden JSON (tests/golden/protocol/),
// parsing is strict, base64 follows RFC 4648.
#include "runvirt/agent/protocol.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::agent {
namespace {

using nlohmann::json;
using test::contains;
using test::errorOf;

// Every byte value, so the golden seccomp filter proves base64 survives binary data.
std::string allBytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  return bytes;
}

ProcessSpec sampleProcess() {
  ProcessSpec p;
  p.args = {"sh", "-c", "echo \"hi\" > /tmp/x"};
  p.env = {"PATH=/usr/bin:/bin", "TERM=xterm"};
  p.cwd = "/work";
  p.uid = 1000;
  p.gid = 100;
  p.additionalGids = {10, 20};
  p.username = "app";
  p.umask = 18;
  p.terminal = true;
  p.rows = 24;
  p.cols = 80;
  p.rlimits = {{7, 1024, 4096}, {6, 100, 200}};
  p.capabilities = Capabilities{0x421, 0x420, 0, 0x421, 0x20};
  p.noNewPrivileges = true;
  p.seccompFilter = allBytes();
  p.oomScoreAdj = -500;
  return p;
}

ContainerSpec sampleContainer() {
  ContainerSpec c;
  c.id = "web";
  c.rootfs = "rootfs";
  c.readonlyRoot = true;
  c.hostname = "web";
  c.domainname = "example.org";
  c.namespaces = {"pid", "uts", "ipc"};
  c.mounts = {{"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
              {"/data", "bind", "mounts/1", {"rbind", "ro"}}};
  c.maskedPaths = {"/proc/kcore"};
  c.readonlyPaths = {"/proc/sys"};
  c.sysctl = {{"net.ipv4.ip_forward", "1"}};
  c.process = sampleProcess();
  return c;
}

Request request(std::uint64_t id, RequestBody body) { return Request{id, std::move(body)}; }

// One golden file per message: tests/golden/protocol/<name>.json.
struct GoldenMessage {
  std::string name;
  bool fromGuest;
  GuestMessage guest;
  HostMessage host;
};

void PrintTo(const GoldenMessage& m, std::ostream* os) { *os << m.name; }

GoldenMessage guest(std::string name, GuestMessage m) {
  return {std::move(name), true, std::move(m), {}};
}
GoldenMessage host(std::string name, HostMessage m) {
  return {std::move(name), false, {}, std::move(m)};
}

ConfigureNetwork sampleNetwork() {
  ConfigureNetwork n;
  n.interfaces = {{"eth0", "02:42:ac:11:00:02", 1500, {"172.17.0.2/16", "fd00::2/64"}}};
  n.routes = {{"default", "172.17.0.1", "eth0"}, {"10.10.0.0/16", "", "eth0"}};
  n.dnsRelay = true;
  return n;
}

ContainerSpec limitedContainer() {
  ContainerSpec c = sampleContainer();
  c.resources.memoryLimit = 64 << 20;
  c.resources.pidsLimit = 100;
  return c;
}

std::vector<GoldenMessage> goldenMessages() {
  ExecProcess exec{"web", 3, sampleProcess()};
  exec.spec.terminal = false;
  exec.spec.rows = exec.spec.cols = 0;
  exec.spec.capabilities.reset();
  exec.spec.seccompFilter.clear();
  exec.spec.umask.reset();
  exec.spec.username.clear();
  exec.spec.oomScoreAdj.reset();
  return {
      guest("hello", Hello{kProtocolVersion, "x86_64", "6.1.0-18-cloud-amd64", 1.25}),
      guest("response", Response{41, "", std::nullopt, {}}),
      guest("response_error",
            Response{42, "exec `nope`: No such file or directory", std::nullopt, {}}),
      guest("response_pid", Response{43, "", 1234, {}}),
      guest("response_pids", Response{44, "", std::nullopt, {1, 7, 12}}),
      guest("exit_code", ProcessExited{0, 3, 0}),
      guest("exit_signal", ProcessExited{5, 0, 9}),
      host("hello_ack", HelloAck{kProtocolVersion}),
      host("create_container", request(1, CreateContainer{sampleContainer()})),
      host("start_container", request(2, StartContainer{"web"})),
      host("exec_process", request(3, exec)),
      host("signal_process", request(4, SignalProcess{0, 15, true})),
      host("resize_terminal", request(5, ResizeTerminal{3, 50, 132})),
      host("close_stdin", request(6, CloseStdin{3})),
      host("list_processes", request(7, ListProcesses{"web"})),
      host("shutdown", request(8, Shutdown{})),
      host("configure_network", request(9, sampleNetwork())),
      host("create_container_limits", request(10, CreateContainer{limitedContainer()})),
  };
}

class ProtocolGolden : public ::testing::TestWithParam<GoldenMessage> {};

TEST_P(ProtocolGolden, MatchesFileAndRoundTrips) {
  const GoldenMessage& m = GetParam();
  json encoded = m.fromGuest ? toJson(m.guest) : toJson(m.host);
  std::string relative = "protocol/" + m.name + ".json";
  test::expectGolden(relative, encoded.dump(2) + "\n");

  json fromFile = json::parse(test::readFile(test::goldenPath(relative)));
  json reencoded =
      m.fromGuest ? toJson(parseGuestMessage(fromFile)) : toJson(parseHostMessage(fromFile));
  EXPECT_EQ(reencoded, fromFile);
}

INSTANTIATE_TEST_SUITE_P(Messages, ProtocolGolden, ::testing::ValuesIn(goldenMessages()),
                         [](const ::testing::TestParamInfo<GoldenMessage>& info) {
                           return info.param.name;
                         });

TEST(Protocol, ParsedCreateContainerKeepsEveryField) {
  json j = toJson(HostMessage{request(9, CreateContainer{sampleContainer()})});
  auto parsed = std::get<Request>(parseHostMessage(j));
  EXPECT_EQ(parsed.id, 9u);
  const ContainerSpec& c = std::get<CreateContainer>(parsed.body).container;
  EXPECT_EQ(c.mounts[1].source, "mounts/1");
  EXPECT_EQ(c.process.seccompFilter, allBytes());
  EXPECT_EQ(c.process.rows, 24);
  EXPECT_EQ(c.process.cols, 80);
  ASSERT_TRUE(c.process.capabilities);
  EXPECT_EQ(c.process.capabilities->bounding, 0x421u);
  EXPECT_EQ(c.process.rlimits[1].resource, 6);
  EXPECT_EQ(c.process.oomScoreAdj, -500);
}

TEST(Protocol, HelloMeansHelloAckFromTheHost) {
  auto message = parseHostMessage(json{{"type", "hello"}, {"version", 1}});
  EXPECT_EQ(std::get<HelloAck>(message).version, 1);
}

TEST(Protocol, RequestNames) {
  EXPECT_EQ(requestName(CreateContainer{}), "create_container");
  EXPECT_EQ(requestName(ResizeTerminal{}), "resize_terminal");
  EXPECT_EQ(requestName(Shutdown{}), "shutdown");
}

TEST(ProtocolStrict, UnknownFieldIsRejected) {
  json hello = {
      {"type", "hello"}, {"version", 1}, {"arch", "x86_64"}, {"kernel", "6.1"}, {"color", "blue"}};
  EXPECT_EQ(errorOf([&] { parseGuestMessage(hello); }),
            "invalid hello message: color: is not a known field");
}

TEST(ProtocolStrict, UnknownNestedFieldIsRejected) {
  json j = toJson(HostMessage{request(1, CreateContainer{sampleContainer()})});
  j["container"]["process"]["capabilities"]["extra"] = 1;
  j["container"]["mounts"][0]["flags"] = 1;
  std::string message = errorOf([&] { parseHostMessage(j); });
  EXPECT_TRUE(contains(message, "container.mounts[0].flags: is not a known field"));
  EXPECT_TRUE(contains(message, "container.process.capabilities.extra: is not a known field"));
}

TEST(ProtocolStrict, WrongTypeIsRejected) {
  json j = {{"type", "signal_process"}, {"id", 1}, {"process", "init"}, {"signal", 9}};
  EXPECT_EQ(errorOf([&] { parseHostMessage(j); }),
            "invalid signal_process message: process: must be a non-negative integer");
  json exit = {{"type", "exit"}, {"process", 0}, {"code", "3"}};
  EXPECT_EQ(errorOf([&] { parseGuestMessage(exit); }),
            "invalid exit message: code: must be an integer");
}

TEST(ProtocolStrict, MissingRequiredFieldIsRejected) {
  EXPECT_EQ(errorOf([&] {
              parseHostMessage(json{{"type", "start_container"}, {"id", 1}});
            }),
            "invalid start_container message: container: is required");
  EXPECT_EQ(errorOf([&] {
              parseGuestMessage(json{{"type", "response"}});
            }),
            "invalid response message: id: is required");
}

TEST(ProtocolStrict, UnknownTypeIsRejected) {
  EXPECT_EQ(errorOf([&] {
              parseHostMessage(json{{"type", "reboot"}, {"id", 1}});
            }),
            "unknown message type `reboot`");
  EXPECT_EQ(errorOf([&] {
              parseGuestMessage(json{{"type", "create_container"}});
            }),
            "unknown message type `create_container`");
}

TEST(ProtocolStrict, MissingTypeIsRejected) {
  EXPECT_EQ(errorOf([&] {
              parseGuestMessage(json{{"id", 1}});
            }),
            "invalid message: type: is required");
  EXPECT_EQ(errorOf([&] { parseHostMessage(json::array()); }),
            "invalid message: type: is required");
}

TEST(ProtocolStrict, TerminalSizeMustFitSixteenBits) {
  json j = {{"type", "resize_terminal"}, {"id", 1}, {"process", 0}, {"rows", 70000}, {"cols", 80}};
  EXPECT_EQ(errorOf([&] { parseHostMessage(j); }),
            "invalid resize_terminal message: rows: must fit in 16 bits");
}

TEST(ProtocolStrict, BadSeccompBase64IsRejected) {
  json j = toJson(HostMessage{request(1, CreateContainer{sampleContainer()})});
  j["container"]["process"]["seccompFilter"] = "not base64!";
  EXPECT_TRUE(contains(errorOf([&] { parseHostMessage(j); }),
                       "container.process.seccompFilter: invalid base64"));
}

TEST(ProtocolStrict, PidsMustBeIntegers) {
  json j = {{"type", "response"}, {"id", 1}, {"pids", {1, "two"}}};
  EXPECT_EQ(errorOf([&] { parseGuestMessage(j); }),
            "invalid response message: pids: must be an array of integers");
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64Encode(plain), encoded);
    EXPECT_EQ(base64Decode(encoded), plain);
  }
}

TEST(Base64, BinaryRoundTrips) {
  std::string bytes = allBytes();
  for (std::size_t cut = 0; cut < 4; ++cut) {
    std::string data = bytes.substr(cut);
    EXPECT_EQ(base64Decode(base64Encode(data)), data) << "length " << data.size();
  }
  EXPECT_EQ(base64Encode(std::string("\xff\xfe\x00", 3)), "//4A");
  EXPECT_EQ(base64Encode(std::string("\xfb\xff", 2)), "+/8=");
}

TEST(Base64, BadInputIsRejected) {
  EXPECT_EQ(errorOf([] { base64Decode("Zm9"); }), "invalid base64 length");
  for (const char* text : {"Zm9!", "Zm 9", "=Zm9", "Z===", "Zg=a", "Zg==Zm9v", "Zm9v\n"}) {
    EXPECT_TRUE(contains(errorOf([&] { base64Decode(text); }), "invalid base64")) << text;
  }
}

}  // namespace
}  // namespace runvirt::agent

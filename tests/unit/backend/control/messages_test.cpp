// libvirt-backend/control/messages.cpp: one golden file per control message, round trips and
// strict parsing (unknown fields, wrong types, another version, another type).
#include "control/messages.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include "unit/test_util.hpp"

namespace runvirt::backend::control {
namespace {

using nlohmann::json;
using test::errorOf;

struct GoldenMessage {
  std::string name;
  bool request;
  Request asRequest;
  Reply asReply;
};

void PrintTo(const GoldenMessage& m, std::ostream* os) { *os << m.name; }

GoldenMessage request(std::string name, Request r) {
  return {std::move(name), true, std::move(r), {}};
}
GoldenMessage reply(std::string name, Reply r) {
  return {std::move(name), false, {}, std::move(r)};
}

agent::ProcessSpec execProcess() {
  agent::ProcessSpec p;
  p.args = {"sh", "-c", "echo hi"};
  p.env = {"PATH=/usr/bin:/bin", "TERM=xterm"};
  p.cwd = "/work";
  p.uid = 1000;
  p.gid = 1000;
  p.terminal = true;
  p.rows = 24;
  p.cols = 80;
  return p;
}

std::vector<GoldenMessage> goldenMessages() {
  return {
      request("start", Start{}),
      request("kill", Kill{15, true}),
      request("list_host_pids", ListHostPids{}),
      request("exec", Exec{execProcess()}),
      request("signal", Signal{2}),
      request("resize", Resize{50, 132}),
      reply("done", Done{}),
      reply("failed", Failed{"cannot start an already running container"}),
      reply("started", Started{1}),
      reply("host_pids", HostPids{{4242, 4250}}),
      reply("exec_started", ExecStarted{17, 3}),
      reply("exited_code", Exited{3, 0}),
      reply("exited_signal", Exited{0, 9}),
  };
}

class ControlGolden : public ::testing::TestWithParam<GoldenMessage> {};

TEST_P(ControlGolden, MatchesFileAndRoundTrips) {
  const GoldenMessage& m = GetParam();
  json encoded = m.request ? toJson(m.asRequest) : toJson(m.asReply);
  std::string relative = "control/" + m.name + ".json";
  test::expectGolden(relative, encoded.dump(2) + "\n");

  json fromFile = json::parse(test::readFile(test::goldenPath(relative)));
  json reencoded = m.request ? toJson(parseRequest(fromFile)) : toJson(parseReply(fromFile));
  EXPECT_EQ(reencoded, fromFile);
}

INSTANTIATE_TEST_SUITE_P(Messages, ControlGolden, ::testing::ValuesIn(goldenMessages()),
                         [](const ::testing::TestParamInfo<GoldenMessage>& info) {
                           return info.param.name;
                         });

TEST(ControlMessages, ParsedExecKeepsTheProcess) {
  auto parsed = std::get<Exec>(parseRequest(toJson(Request{Exec{execProcess()}})));
  EXPECT_EQ(parsed.process.args, execProcess().args);
  EXPECT_EQ(parsed.process.cwd, "/work");
  EXPECT_EQ(parsed.process.uid, 1000u);
  EXPECT_TRUE(parsed.process.terminal);
  EXPECT_EQ(parsed.process.rows, 24);
}

TEST(ControlMessages, TypeNames) {
  EXPECT_EQ(typeName(Request{ListHostPids{}}), "list_host_pids");
  EXPECT_EQ(typeName(Reply{ExecStarted{}}), "exec_started");
}

TEST(ControlMessages, UnknownFieldsAreRejected) {
  json j = toJson(Request{Kill{9, false}});
  j["force"] = true;
  EXPECT_EQ(errorOf([&] { parseRequest(j); }),
            "invalid control request `kill`: force: is not a known field");
}

TEST(ControlMessages, EveryFieldIsRequired) {
  json j = toJson(Request{Kill{9, false}});
  j.erase("all");
  EXPECT_EQ(errorOf([&] { parseRequest(j); }), "invalid control request `kill`: all: is required");
}

TEST(ControlMessages, WrongTypesAreRejected) {
  json j = toJson(Reply{Exited{0, 9}});
  j["signal"] = "KILL";
  EXPECT_EQ(errorOf([&] { parseReply(j); }),
            "invalid control reply `exited`: signal: must be an integer");
  json pids = toJson(Reply{HostPids{{1}}});
  pids["pids"] = json::array({1, "two"});
  EXPECT_EQ(errorOf([&] { parseReply(pids); }),
            "invalid control reply `host_pids`: pids[1]: must be an integer");
}

// Checked on the host before a monitor acts on them: a signal for kill(2) or the guest, and an exit
// an exec monitor ends itself with (never a stop signal, which would stop it).
TEST(ControlMessages, SignalsMustBeSignalNumbers) {
  for (int signal : {0, -1, 65}) {
    EXPECT_EQ(errorOf([&] {
                parseRequest(toJson(Request{Kill{signal, false}}));
              }),
              "invalid control request `kill`: signal: must be a signal number (1-64)");
    EXPECT_EQ(errorOf([&] { parseRequest(toJson(Request{Signal{signal}})); }),
              "invalid control request `signal`: signal: must be a signal number (1-64)");
  }
  EXPECT_EQ(std::get<Kill>(parseRequest(toJson(Request{Kill{64, false}}))).signal, 64);
  EXPECT_EQ(std::get<Signal>(parseRequest(toJson(Request{Signal{SIGSTOP}}))).signal, SIGSTOP);
}

TEST(ControlMessages, ExitedMustBeAnExitAProcessCanHave) {
  EXPECT_EQ(errorOf([&] {
              parseReply(toJson(Reply{Exited{0, SIGSTOP}}));
            }),
            "invalid control reply `exited`: signal: signal 19 is not one a process dies of");
  EXPECT_EQ(errorOf([&] {
              parseReply(toJson(Reply{Exited{0, 65}}));
            }),
            "invalid control reply `exited`: signal: signal 65 is not one a process dies of");
  EXPECT_EQ(errorOf([&] {
              parseReply(toJson(Reply{Exited{256, 0}}));
            }),
            "invalid control reply `exited`: code: exit code 256 is not in 0-255");
  EXPECT_EQ(errorOf([&] {
              parseReply(toJson(Reply{Exited{1, SIGTERM}}));
            }),
            "invalid control reply `exited`: signal: an exit code (1) and a signal (15)");
  EXPECT_EQ(std::get<Exited>(parseReply(toJson(Reply{Exited{0, SIGRTMAX}}))).signal, SIGRTMAX);
}

TEST(ControlMessages, ResizeMustFitSixteenBits) {
  json j = toJson(Request{Resize{1, 1}});
  j["rows"] = 70000;
  EXPECT_EQ(errorOf([&] { parseRequest(j); }),
            "invalid control request `resize`: rows: must fit in 16 bits");
}

TEST(ControlMessages, AnotherVersionIsRejectedByName) {
  json j = toJson(Request{Start{}});
  j["version"] = kVersion + 1;
  EXPECT_EQ(errorOf([&] { parseRequest(j); }),
            "control protocol version " + std::to_string(kVersion + 1) +
                " is not this runvirt's (" + std::to_string(kVersion) + ")");
}

TEST(ControlMessages, UnknownOrMisdirectedTypesAreRejected) {
  EXPECT_EQ(errorOf([&] {
              parseRequest({{"version", kVersion}, {"type", "reboot"}});
            }),
            "unknown control message type `reboot`");
  // A reply is not a request.
  EXPECT_EQ(errorOf([&] { parseRequest(toJson(Reply{Done{}})); }),
            "unknown control message type `done`");
}

TEST(ControlMessages, NotAnObject) {
  EXPECT_EQ(errorOf([&] { parseReply(json::array()); }),
            "invalid control reply: not a JSON object");
  EXPECT_EQ(errorOf([&] {
              parseRequest({{"type", "start"}});
            }),
            "invalid control request: version: is required");
}

TEST(ControlMessages, ParseErrorsAreInvalidArgument) {
  try {
    parseRequest({{"version", kVersion}, {"type", "nope"}});
    FAIL() << "parsed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
  }
}

}  // namespace
}  // namespace runvirt::backend::control

#include "process_table.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "runvirt/error.hpp"

namespace runvirt::agent {
namespace {

struct Pipes {
  int in[2], out[2], err[2];
};

// Forks a child whose stdio are fresh pipes; the table gets the agent's ends.
pid_t spawn(ProcessTable& table, ProcessId id, const std::function<int()>& body) {
  Pipes p;
  EXPECT_EQ(::pipe(p.in) | ::pipe(p.out) | ::pipe(p.err), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p.in[0], 0);
    ::dup2(p.out[1], 1);
    ::dup2(p.err[1], 2);
    for (int fd : {p.in[0], p.in[1], p.out[0], p.out[1], p.err[0], p.err[1]}) ::close(fd);
    ::_exit(body());
  }
  ::close(p.in[0]);
  ::close(p.out[1]);
  ::close(p.err[1]);
  ProcessRecord& record = table.add(id, "c");
  record.pid = pid;
  record.reportExit = true;
  std::vector<UniqueFd> fds;
  fds.emplace_back(p.in[1]);
  fds.emplace_back(p.out[0]);
  fds.emplace_back(p.err[0]);
  table.attachStdio(id, false, std::move(fds));
  return pid;
}

class ProcessTableTest : public ::testing::Test {
 protected:
  ProcessTable table{
      [this](const std::string& frame) { decoder.feed(frame.data(), frame.size()); }};
  FrameDecoder decoder;
  std::vector<std::string> events;  // "out:...", "err:...", "exit:code" or "signal:n"

  // Runs the loop until process `id` got its exit event (or `rounds` rounds passed).
  void runUntilExit(ProcessId id, Clock::duration clockSkew = {}, int rounds = 200) {
    for (int i = 0; i < rounds; ++i) {
      PollSet set;
      table.addToPoll(set);
      set.wait(20);
      table.reapChildren();
      table.finishExits(Clock::now() + clockSkew);
      collect();
      if (!events.empty() && events.back().rfind("exit" + std::to_string(id), 0) == 0) return;
    }
  }

  void collect() {
    while (auto frame = decoder.next()) {
      if (frame->type == FrameType::Data) {
        auto chunk = decodeData(frame->payload);
        std::string prefix = chunk.stream == Stream::Stdout ? "out:" : "err:";
        if (!events.empty() && events.back().rfind(prefix, 0) == 0) {
          events.back() += chunk.bytes;  // pipes may split output; join adjacent chunks
        } else {
          events.push_back(prefix + std::string(chunk.bytes));
        }
      } else {
        auto message = parseGuestMessage(decodeMessage(frame->payload));
        auto exited = std::get<ProcessExited>(message);
        events.push_back("exit" + std::to_string(exited.process) + ":" +
                         (exited.signal ? "signal " + std::to_string(exited.signal)
                                        : std::to_string(exited.code)));
      }
    }
  }
};

TEST_F(ProcessTableTest, OutputThenExitEvent) {
  spawn(table, 7, [] {
    ::write(1, "out", 3);
    ::write(2, "err", 3);
    return 3;
  });
  runUntilExit(7);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE((events[0] == "out:out" && events[1] == "err:err") ||
              (events[0] == "err:err" && events[1] == "out:out"));
  EXPECT_EQ(events[2], "exit7:3");
  EXPECT_TRUE(table.find(7)->finished);
}

TEST_F(ProcessTableTest, StdinIsQueuedAndClosed) {
  spawn(table, 1, [] {
    char buffer[256];
    ssize_t n;
    while ((n = ::read(0, buffer, sizeof buffer)) > 0) ::write(1, buffer, std::size_t(n));
    return 0;
  });
  table.queueInput(1, "hello ");
  table.queueInput(1, "world");
  table.closeInput(1);
  runUntilExit(1);
  EXPECT_EQ(events, (std::vector<std::string>{"out:hello world", "exit1:0"}));
}

TEST_F(ProcessTableTest, SignalIsReported) {
  spawn(table, 2, [] {
    ::pause();
    return 0;
  });
  ::kill(table.find(2)->pid, SIGKILL);
  runUntilExit(2);
  EXPECT_EQ(events.back(), "exit2:signal 9");
}

TEST_F(ProcessTableTest, ExitIsNotHeldBackByAChildHoldingThePipes) {
  spawn(table, 3, [] {
    if (::fork() == 0) {
      ::sleep(5);  // keeps stdout open after its parent exited
      ::_exit(0);
    }
    return 0;
  });
  // Let the process exit, then pretend the drain limit has passed.
  for (int i = 0; i < 100 && !table.find(3)->exited(); ++i) {
    ::usleep(10000);
    table.reapChildren();
  }
  table.finishExits(Clock::now());
  collect();
  EXPECT_TRUE(events.empty());  // still waiting for output
  EXPECT_GT(table.msUntilNextDeadline(Clock::now()), 0);
  table.finishExits(Clock::now() + kExitDrainLimit + std::chrono::milliseconds(1));
  collect();
  EXPECT_EQ(events, (std::vector<std::string>{"exit3:0"}));
  EXPECT_EQ(table.msUntilNextDeadline(Clock::now()), -1);
}

TEST_F(ProcessTableTest, NoExitEventWhileLaunchingOrUnreported) {
  spawn(table, 4, [] { return 5; });
  table.find(4)->launching = true;
  runUntilExit(4, {}, 30);
  EXPECT_TRUE(events.empty());
  table.find(4)->launching = false;
  table.find(4)->reportExit = false;
  runUntilExit(4, {}, 10);
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(table.find(4)->finished);
}

TEST_F(ProcessTableTest, StatusReapedBeforeThePidWasKnownIsClaimed) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(9);
  ProcessRecord& record = table.add(5, "c");
  record.reportExit = true;
  ::usleep(50000);
  for (int i = 0; i < 100; ++i) {
    table.reapChildren();
    ::usleep(5000);
  }
  table.setPid(5, pid);
  ASSERT_TRUE(table.find(5)->exited());
  table.finishExits(Clock::now());
  collect();
  EXPECT_EQ(events, (std::vector<std::string>{"exit5:9"}));
}

TEST_F(ProcessTableTest, DuplicateIdIsRejected) {
  table.add(6, "c");
  EXPECT_THROW(table.add(6, "c"), Error);
  EXPECT_EQ(table.idsOfContainer("c"), (std::vector<ProcessId>{6}));
}

}  // namespace
}  // namespace runvirt::agent

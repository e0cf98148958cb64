// libvirt-backend/monitor/monitor_loop.cpp: the monitor's event loop, run in a thread of the test
// against a FakeAgent on a socketpair (tests/fakes/fake_agent.hpp), a FakeHypervisor, pipes (or a
// pty) for the workload's stdio, a pipe of signalfd_siginfo records for the signalfd, and its
// control socket in a temporary directory, which the test talks to as the CLI and exec monitors do.
#include "monitor/monitor_loop.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "control/channel.hpp"
#include "fakes/fake_agent.hpp"
#include "fakes/fake_hypervisor.hpp"
#include "monitor/terminal.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;
using test::FakeAgent;

// The longest anything the loop should do promptly may take on a loaded machine.
constexpr double kPatience = 5;

// Short enough that a test does not wait long, long enough that nothing fires by accident.
const MonitorLoopTiming kTestTiming{.killGraceSeconds = 0.3,
                                    .drainSeconds = 1,
                                    .requestTimeoutSeconds = 2,
                                    .controlReceiveSeconds = 1};

MonitorLoopTiming drainingFor(double seconds) {
  MonitorLoopTiming timing = kTestTiming;
  timing.drainSeconds = seconds;
  return timing;
}

// A guest process that writes `out` and `err` and exits with `code` right after it started.
FakeAgent::ProcessScript exitsWith(int code, std::string out = "", std::string err = "") {
  FakeAgent::ProcessScript script;
  script.out = std::move(out);
  script.err = std::move(err);
  script.exitCode = code;
  return script;
}

// A guest process that runs until a signal for it comes, and dies of that signal.
FakeAgent::ProcessScript diesOfSignals() {
  FakeAgent::ProcessScript script;
  script.diesOfSignals = true;
  return script;
}

std::size_t entriesIn(const char* dir) {
  std::size_t count = 0;
  if (DIR* d = opendir(dir)) {
    while (dirent* entry = readdir(d)) count += entry->d_name[0] != '.';
    closedir(d);
  }
  return count;
}

// Declared first in the fixture: counts this process's fds and threads before everything else
// exists and checks them after everything else is gone.
struct LeakCheck {
  std::size_t fds = entriesIn("/proc/self/fd");
  std::size_t threads = entriesIn("/proc/self/task");
  ~LeakCheck() {
    EXPECT_EQ(entriesIn("/proc/self/fd"), fds) << "the test leaked file descriptors";
    EXPECT_EQ(entriesIn("/proc/self/task"), threads) << "the test leaked threads";
  }
};

class IgnoredSignal {
 public:
  explicit IgnoredSignal(int signal) : signal_(signal) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(signal_, &ignore, &previous_);
  }
  ~IgnoredSignal() { sigaction(signal_, &previous_, nullptr); }
  IgnoredSignal(const IgnoredSignal&) = delete;
  IgnoredSignal& operator=(const IgnoredSignal&) = delete;

 private:
  int signal_;
  struct sigaction previous_ {};
};

struct Pipe {
  UniqueFd read, write;
  explicit Pipe(int flags = 0) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | flags) < 0) throwErrno("pipe2");
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

bool readableWithin(int fd, double seconds) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(seconds * 1000)) == 1;
}

// Reads `fd` until `size` bytes came, the writer closed it, or `seconds` passed (0: only what is
// there already).
std::string readUpTo(int fd, std::size_t size, double seconds = kPatience) {
  std::string text;
  double deadline = log::monotonicSeconds() + seconds;
  char buf[65536];
  while (text.size() < size) {
    if (!readableWithin(fd, std::max(0.0, deadline - log::monotonicSeconds()))) break;
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, size - text.size()));
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

std::string readToEnd(int fd, double seconds = kPatience) {
  return readUpTo(fd, std::string::npos, seconds);
}

void writeAll(int fd, const std::string& text) {
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

// Bytes that show a reordering or a lost chunk: a counter, not a repeated letter.
std::string patterned(std::size_t size) {
  std::string text;
  text.reserve(size);
  for (std::size_t i = 0; text.size() < size; ++i) text += std::to_string(i) + ",";
  text.resize(size);
  return text;
}

std::string describe(const ExitStatus& status) {
  return status.signal > 0 ? "killed by " + std::to_string(status.signal)
                           : "exit " + std::to_string(status.code);
}

// One line per request the guest got, for comparisons that show what was sent.
std::string describe(const agent::RequestBody& body) {
  std::string text = agent::requestName(body);
  if (const auto* start = std::get_if<agent::StartContainer>(&body)) {
    text += " " + start->container;
  } else if (const auto* exec = std::get_if<agent::ExecProcess>(&body)) {
    text += " " + exec->container + " " + std::to_string(exec->process);
    for (const auto& arg : exec->spec.args) text += " " + arg;
  } else if (const auto* signal = std::get_if<agent::SignalProcess>(&body)) {
    text += " " + std::to_string(signal->process) + " " + std::to_string(signal->signal) +
            (signal->all ? " all" : "");
  } else if (const auto* resize = std::get_if<agent::ResizeTerminal>(&body)) {
    text += " " + std::to_string(resize->process) + " " + std::to_string(resize->rows) + "x" +
            std::to_string(resize->cols);
  } else if (const auto* close = std::get_if<agent::CloseStdin>(&body)) {
    text += " " + std::to_string(close->process);
  }
  return text;
}

std::vector<std::string> describe(const std::vector<agent::Request>& requests) {
  std::vector<std::string> lines;
  for (const auto& request : requests) lines.push_back(describe(request.body));
  return lines;
}

bool sawRequest(const FakeAgent::Recorded& recorded, const std::string& line) {
  auto lines = describe(recorded.requests);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// The next reply on a connection, or nothing when none came within `seconds` (or it closed).
std::optional<control::Reply> replyWithin(int connection, double seconds = kPatience) {
  if (!readableWithin(connection, seconds)) return std::nullopt;
  return control::receiveReply(connection);
}

std::string describe(const std::optional<control::Reply>& reply) {
  if (!reply) return "nothing";
  std::string text = control::typeName(*reply);
  if (const auto* failed = std::get_if<control::Failed>(&*reply)) text += " " + failed->error;
  if (const auto* exited = std::get_if<control::Exited>(&*reply)) {
    text += " " + describe(ExitStatus{exited->code, exited->signal});
  }
  return text;
}

// An exec monitor's side of an exec session: the connection and the process's stdio.
struct ExecSession {
  UniqueFd connection;
  Pipe in, out, err;
  std::optional<control::Reply> reply;  // to the exec request
};

class MonitorLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ContainerRecord record;
    record.id = "web";
    record.bundle = dir / "bundle";
    record.rootfs = dir / "bundle/rootfs";
    record.created = "2024-01-02T03:04:05.123456789Z";
    record.status = oci::Status::Created;
    record.monitorPid = getpid();
    record.domainName = "runvirt-web";
    record.vmDir = dir / "vm";
    store.claim("web");
    store.save(record);

    hypervisor.addDomain("runvirt-web");
    // The guest's end of the channel goes away with its VM.
    hypervisor.onDestroy = [this](const std::string&) { guest.closeChannel(); };
    session.domainName = "runvirt-web";
    session.libvirtUri = "test:///fake";
    session.connectHypervisor = hypervisor.factory();
    session.agent = AgentClient::adopt(guest.takeHostEnd());
    session.agent->handshake(kPatience);

    stdio.in = stdinPipe.read.get();
    stdio.out = stdoutPipe.write.get();
    stdio.err = stderrPipe.write.get();
    listener = control::listen(controlSocket());
  }

  void TearDown() override {
    if (!loopThread.joinable()) return;
    if (outcome.valid() && outcome.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      // A test that failed before the workload ended: end it as a vanished VM does.
      guest.closeChannel();
      if (outcome.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
        std::fprintf(
            stderr,
            "the monitor loop did not end after its VM was gone: aborting instead of hanging\n");
        std::abort();
      }
    }
    loopThread.join();
  }

  // Runs the loop in a thread until the workload has ended.
  void startLoop(MonitorLoopTiming timing = kTestTiming) {
    Pipe signals(O_NONBLOCK);  // a signalfd is non-blocking: the loop reads until it is empty
    signalWriter = std::move(signals.write);
    loop.emplace(store, "web", session, stdio, std::move(listener), std::move(signals.read),
                 timing);
    std::promise<ExitStatus> result;
    outcome = result.get_future();
    loopThread = std::thread([this, result = std::move(result)]() mutable {
      try {
        result.set_value(loop->run());
      } catch (...) {
        result.set_exception(std::current_exception());
      }
    });
  }

  // What run() returned (rethrows what it threw).
  ExitStatus waitForExit(double seconds = kPatience) {
    if (outcome.wait_for(std::chrono::duration<double>(seconds)) != std::future_status::ready) {
      ADD_FAILURE() << "the loop did not end within " << seconds << " s";
      return {-1, -1};
    }
    return outcome.get();
  }

  bool stillRunningAfter(double seconds) {
    return outcome.wait_for(std::chrono::duration<double>(seconds)) == std::future_status::timeout;
  }

  std::string controlSocket() const { return dir / "control.sock"; }

  control::Reply request(const control::Request& request) {
    return control::call(controlSocket(), request, kPatience);
  }

  // A request the loop answers only from its poll loop: once it returns, everything the loop
  // could read before it has been handled.
  void roundTrip() { request(control::ListHostPids{}); }

  void start() {
    control::Reply reply = request(control::Start{});
    ASSERT_TRUE(std::holds_alternative<control::Started>(reply)) << control::typeName(reply);
    EXPECT_EQ(std::get<control::Started>(reply).pid, 100);  // the fake's pid for process 0
  }

  // What the process's signalfd would give the loop.
  void deliver(int signal) {
    signalfd_siginfo info{};
    info.ssi_signo = static_cast<std::uint32_t>(signal);
    ASSERT_EQ(::write(signalWriter.get(), &info, sizeof info), static_cast<ssize_t>(sizeof info));
  }

  ExecSession openExec(std::vector<std::string> args = {"/bin/sh", "-c", "work"}) {
    ExecSession exec;
    agent::ProcessSpec spec;
    spec.args = std::move(args);
    exec.connection = control::connect(controlSocket());
    control::send(exec.connection.get(), control::Exec{spec},
                  {exec.in.read.get(), exec.out.write.get(), exec.err.write.get()});
    // The loop has its own copies now: ours would keep the pipes open after it closed them.
    exec.in.read.reset();
    exec.out.write.reset();
    exec.err.write.reset();
    exec.reply = replyWithin(exec.connection.get());
    return exec;
  }

  bool guestSaw(const std::string& request) {
    return guest.waitUntil([&](const FakeAgent::Recorded& r) { return sawRequest(r, request); },
                           kPatience);
  }

  std::vector<std::string> requests() { return describe(guest.recorded().requests); }

  oci::Status storedStatus() const { return store.load("web").status; }

  bool becomes(oci::Status status) {
    double deadline = log::monotonicSeconds() + kPatience;
    while (storedStatus() != status) {
      if (log::monotonicSeconds() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  LeakCheck leakCheck;  // first: made before and checked after everything below
  test::TempDir dir;
  FakeAgent guest;
  test::FakeHypervisor hypervisor;
  StateStore store{dir / "root"};
  Pipe stdinPipe, stdoutPipe, stderrPipe;
  VmSession session;
  WorkloadStdio stdio;
  UniqueFd listener;
  UniqueFd signalWriter;
  std::optional<MonitorLoop> loop;
  std::future<ExitStatus> outcome;  // of run()
  std::thread loopThread;
};

// ---- start, output, input, exit ----

TEST_F(MonitorLoopTest, StartRunsTheInitInTheGuestAndRecordsTheContainerAsRunning) {
  startLoop();
  EXPECT_TRUE(stillRunningAfter(0.1));  // created: the loop waits for start
  EXPECT_EQ(storedStatus(), oci::Status::Created);
  start();
  EXPECT_EQ(requests(), std::vector<std::string>{"start_container web"});
  EXPECT_EQ(storedStatus(), oci::Status::Running);
  EXPECT_TRUE(stillRunningAfter(0.1));
}

TEST_F(MonitorLoopTest, OutputOfTheGuestReachesStdoutAndStderrInOrder) {
  startLoop();
  start();
  std::string large = patterned(1 << 20);  // many times what a pipe holds
  guest.sendOutput(0, agent::Stream::Stdout, "one ");
  guest.sendOutput(0, agent::Stream::Stderr, "warning ");
  guest.sendOutput(0, agent::Stream::Stdout, "two ");
  guest.sendOutput(0, agent::Stream::Stderr, "error");
  guest.sendOutput(0, agent::Stream::Stdout, large);
  EXPECT_EQ(readUpTo(stdoutPipe.read.get(), 8 + large.size()), "one two " + large);
  EXPECT_EQ(readUpTo(stderrPipe.read.get(), 13), "warning error");
  guest.sendOutput(7, agent::Stream::Stdout, "of a process nobody knows");  // dropped
  guest.sendExit(0, 0);
  EXPECT_EQ(describe(waitForExit()), "exit 0");
  EXPECT_FALSE(readableWithin(stdoutPipe.read.get(), 0));
}

TEST_F(MonitorLoopTest, StdinReachesTheGuestOnceStartedAndItsEndClosesTheGuestsStdin) {
  startLoop();
  writeAll(stdinPipe.write.get(), "typed before start ");
  roundTrip();
  EXPECT_FALSE(
      guest.waitUntil([](const FakeAgent::Recorded& r) { return !r.stdinBytes.empty(); }, 0.2))
      << "stdin was sent to a process that has not started";
  start();
  EXPECT_TRUE(guest.waitUntil([](const FakeAgent::Recorded& r) { return r.stdinBytes.count(0); },
                              kPatience));
  std::string large = patterned(300000);
  writeAll(stdinPipe.write.get(), large);
  stdinPipe.write.reset();
  EXPECT_TRUE(guestSaw("close_stdin 0"));
  EXPECT_EQ(guest.recorded().stdinBytes[0], "typed before start " + large);
  EXPECT_EQ(requests(), (std::vector<std::string>{"start_container web", "close_stdin 0"}));
}

TEST_F(MonitorLoopTest, RunReturnsTheInitsExitCodeAndTheContainerIsStopped) {
  startLoop();
  start();
  guest.sendOutput(0, agent::Stream::Stdout, "last words\n");
  guest.sendExit(0, 42);
  EXPECT_EQ(describe(waitForExit()), "exit 42");
  EXPECT_EQ(readUpTo(stdoutPipe.read.get(), 11), "last words\n");
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

// Its output and exit come with the response to start_container, which the loop waits for: they
// used to stay queued in the agent client, unseen, until the guest sent something else.
TEST_F(MonitorLoopTest, AnInitThatExitsRightAfterStartEndsTheContainer) {
  guest.onStart(exitsWith(7, "hello\n", "bye\n"));
  startLoop();
  start();
  EXPECT_EQ(describe(waitForExit()), "exit 7");
  EXPECT_EQ(readUpTo(stdoutPipe.read.get(), 6, 0), "hello\n");
  EXPECT_EQ(readUpTo(stderrPipe.read.get(), 4, 0), "bye\n");
}

TEST_F(MonitorLoopTest, RunReturnsTheSignalThatKilledTheInit) {
  startLoop();
  start();
  guest.sendKilled(0, SIGSEGV);
  EXPECT_EQ(describe(waitForExit()), "killed by " + std::to_string(SIGSEGV));
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

TEST_F(MonitorLoopTest, AStartTheGuestRefusesFailsAndEndsTheContainer) {
  guest.answer("start_container", FakeAgent::Answer::error("exec format error"));
  startLoop();
  EXPECT_EQ(errorOf([&] { request(control::Start{}); }), "exec format error");
  EXPECT_EQ(describe(waitForExit()), "exit 1");
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

TEST_F(MonitorLoopTest, AStartTheGuestDoesNotAnswerTimesOut) {
  guest.answer("start_container", FakeAgent::Answer::silence());
  MonitorLoopTiming timing = kTestTiming;
  timing.requestTimeoutSeconds = 0.3;
  startLoop(timing);
  EXPECT_EQ(errorOf([&] { request(control::Start{}); }), "agent: no answer to start_container");
  EXPECT_EQ(describe(waitForExit()), "exit 1");
}

TEST_F(MonitorLoopTest, StartingTwiceIsRefusedWithRuncsMessage) {
  startLoop();
  start();
  EXPECT_EQ(errorOf([&] { request(control::Start{}); }),
            "cannot start an already running container");
  EXPECT_EQ(requests(), std::vector<std::string>{"start_container web"});
  EXPECT_TRUE(stillRunningAfter(0));
}

// ---- kill ----

TEST_F(MonitorLoopTest, AFatalSignalBeforeStartEndsTheContainerLikeRuncsParkedInit) {
  startLoop();
  EXPECT_TRUE(std::holds_alternative<control::Done>(request(control::Kill{SIGTERM, false})));
  EXPECT_EQ(describe(waitForExit()), "killed by " + std::to_string(SIGTERM));
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
  EXPECT_TRUE(requests().empty());  // nothing ran in the guest
}

// Stop signals included: they used to end the container as if they had killed it, and SIGSTOP
// then stopped the monitor (which dies of its workload's signal) instead of letting it exit.
TEST_F(MonitorLoopTest, SignalsThatDoNotEndAProcessBeforeStartLeaveTheContainerCreated) {
  startLoop();
  for (int signal : {SIGCHLD, SIGWINCH, SIGCONT, SIGURG, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU}) {
    EXPECT_TRUE(std::holds_alternative<control::Done>(request(control::Kill{signal, false})))
        << signal;
  }
  EXPECT_TRUE(stillRunningAfter(0.1));
  EXPECT_EQ(storedStatus(), oci::Status::Created);
  start();
  EXPECT_EQ(requests(), std::vector<std::string>{"start_container web"});
}

// The signal is checked on the host: 0 used to end a created container as "exit 0", and any
// number went on to the guest.
TEST_F(MonitorLoopTest, AKillWithoutASignalNumberIsRefusedAndTheContainerStaysCreated) {
  startLoop();
  for (int signal : {0, -1, 65, 1000}) {
    EXPECT_EQ(errorOf([&] {
                request(control::Kill{signal, false});
              }),
              "invalid control request `kill`: signal: must be a signal number (1-64)")
        << signal;
  }
  EXPECT_TRUE(stillRunningAfter(0.1));
  EXPECT_EQ(storedStatus(), oci::Status::Created);
  EXPECT_TRUE(requests().empty());
}

TEST_F(MonitorLoopTest, KillWhileRunningIsForwardedToTheGuest) {
  guest.onStart(diesOfSignals());
  startLoop();
  start();
  EXPECT_TRUE(std::holds_alternative<control::Done>(request(control::Kill{SIGTERM, true})));
  EXPECT_EQ(describe(waitForExit()), "killed by " + std::to_string(SIGTERM));
  EXPECT_EQ(requests(),
            (std::vector<std::string>{"start_container web", "signal_process 0 15 all"}));
  EXPECT_EQ(hypervisor.calls(), std::vector<std::string>{});  // the guest did it: nothing destroyed
}

TEST_F(MonitorLoopTest, ASigkillTheGuestDoesNotCarryOutDestroysTheVmAfterTheGracePeriod) {
  startLoop();  // the fake's init runs on whatever it is sent
  start();
  double sent = log::monotonicSeconds();
  request(control::Kill{SIGKILL, false});
  EXPECT_TRUE(guestSaw("signal_process 0 9"));
  EXPECT_EQ(describe(waitForExit()), "killed by 9");
  EXPECT_GE(log::monotonicSeconds() - sent, kTestTiming.killGraceSeconds);
  EXPECT_EQ(hypervisor.calls(), std::vector<std::string>{"destroy runvirt-web"});
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

TEST_F(MonitorLoopTest, AVmThatCannotBeDestroyedAfterTheGracePeriodStillEndsTheContainer) {
  hypervisor.failCall(1, "libvirt is gone");
  startLoop();
  start();
  guest.sendOutput(0, agent::Stream::Stdout, "still relayed");
  request(control::Kill{SIGKILL, false});
  EXPECT_EQ(describe(waitForExit()), "killed by 9");
  EXPECT_EQ(hypervisor.calls(), std::vector<std::string>{"destroy runvirt-web"});
  EXPECT_EQ(readUpTo(stdoutPipe.read.get(), 13), "still relayed");
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

TEST_F(MonitorLoopTest, KillAfterTheExitIsNotRunning) {
  // The loop ends once the init's output has drained, so only a reader that holds it back keeps
  // the loop serving after the exit.
  startLoop(drainingFor(3));
  start();
  guest.sendOutput(0, agent::Stream::Stdout, patterned(1 << 20));
  guest.sendExit(0, 0);
  EXPECT_TRUE(becomes(oci::Status::Stopped));
  EXPECT_TRUE(stillRunningAfter(0));
  EXPECT_EQ(errorOf([&] { request(control::Kill{SIGTERM, false}); }), "container not running");
  EXPECT_EQ(errorOf([&] { request(control::Start{}); }),
            "cannot start a container that has stopped");
  readUpTo(stdoutPipe.read.get(), 1 << 20);
  EXPECT_EQ(describe(waitForExit()), "exit 0");
}

// ---- forwarded signals ----

TEST_F(MonitorLoopTest, ASignalTheMonitorReceivesIsForwardedToTheInit) {
  guest.onStart(diesOfSignals());
  startLoop();
  start();
  deliver(SIGWINCH);  // without a terminal: nothing to resize, and not for the workload
  deliver(SIGTERM);
  EXPECT_EQ(describe(waitForExit()), "killed by " + std::to_string(SIGTERM));
  EXPECT_EQ(requests(), (std::vector<std::string>{"start_container web", "signal_process 0 15"}));
}

TEST_F(MonitorLoopTest, ASignalTheMonitorReceivesBeforeStartEndsTheContainer) {
  startLoop();
  deliver(SIGINT);
  EXPECT_EQ(describe(waitForExit()), "killed by " + std::to_string(SIGINT));
  EXPECT_TRUE(requests().empty());
}

// ---- the control socket ----

TEST_F(MonitorLoopTest, AMalformedRequestIsAnsweredWithFailedAndTheLoopKeepsServing) {
  startLoop();
  const std::pair<std::string, std::string> packets[] = {
      {"not json", "failed control message is not JSON"},
      {R"({"version":1,"type":"surprise"})", "failed unknown control message type `surprise`"},
      {R"({"version":99,"type":"start"})", "failed control protocol version 99"}};
  for (const auto& [packet, reply] : packets) {
    UniqueFd connection = control::connect(controlSocket());
    ASSERT_EQ(::send(connection.get(), packet.data(), packet.size(), MSG_NOSIGNAL),
              ssize_t(packet.size()));
    EXPECT_TRUE(contains(describe(replyWithin(connection.get())), reply)) << packet;
  }
  EXPECT_TRUE(requests().empty());
  start();
  EXPECT_EQ(storedStatus(), oci::Status::Running);
}

TEST_F(MonitorLoopTest, ExecSessionMessagesOnAFreshConnectionAreRefused) {
  startLoop();
  start();
  EXPECT_EQ(errorOf([&] { request(control::Signal{SIGTERM}); }),
            "signal belongs to an exec session");
  EXPECT_EQ(errorOf([&] {
              request(control::Resize{24, 80});
            }),
            "resize belongs to an exec session");
  EXPECT_EQ(requests(), std::vector<std::string>{"start_container web"});
}

TEST_F(MonitorLoopTest, AClientThatSaysNothingIsDroppedAndOthersAreServed) {
  MonitorLoopTiming timing = kTestTiming;
  timing.controlReceiveSeconds = 0.3;
  startLoop(timing);
  UniqueFd silent = control::connect(controlSocket());
  start();  // served once the loop gave up on the silent one
  EXPECT_TRUE(contains(describe(replyWithin(silent.get())),
                       "failed control socket: receive: Resource temporarily unavailable"));
}

TEST_F(MonitorLoopTest, ListHostPidsNamesTheMonitorAndEveryExecMonitor) {
  startLoop();
  start();
  EXPECT_EQ(std::get<control::HostPids>(request(control::ListHostPids{})).pids,
            std::vector<int>{getpid()});
  ExecSession exec = openExec();
  // The exec monitor is this test process too: its pid appears a second time.
  EXPECT_EQ(std::get<control::HostPids>(request(control::ListHostPids{})).pids,
            (std::vector<int>{getpid(), getpid()}));
}

// ---- exec sessions ----

TEST_F(MonitorLoopTest, AnExecdProcessesOutputGoesToItsPipesAndItsExitToItsSession) {
  startLoop();
  start();
  ExecSession exec = openExec({"/bin/echo", "hi"});
  ASSERT_EQ(control::typeName(*exec.reply), "exec_started") << describe(exec.reply);
  EXPECT_EQ(std::get<control::ExecStarted>(*exec.reply).pid, 101);  // the fake's pid for process 1
  EXPECT_EQ(std::get<control::ExecStarted>(*exec.reply).process, 1u);
  guest.sendOutput(1, agent::Stream::Stdout, "exec ");
  guest.sendOutput(1, agent::Stream::Stderr, "exec err");
  guest.sendOutput(1, agent::Stream::Stdout, "out");
  guest.sendExit(1, 3);
  EXPECT_EQ(describe(replyWithin(exec.connection.get())), "exited exit 3");
  // Its pipes were closed once it was reported: what came before the end is all there is.
  EXPECT_EQ(readToEnd(exec.out.read.get()), "exec out");
  EXPECT_EQ(readToEnd(exec.err.read.get()), "exec err");
  EXPECT_EQ(readToEnd(exec.connection.get()), "");  // the session ends with its process
  EXPECT_EQ(requests(),
            (std::vector<std::string>{"start_container web", "exec_process web 1 /bin/echo hi"}));
  EXPECT_TRUE(stillRunningAfter(0));  // the container goes on
  EXPECT_EQ(readUpTo(stdoutPipe.read.get(), 1, 0), "");
}

// As for start: what comes with exec_process's response must not wait for more from the guest.
TEST_F(MonitorLoopTest, AnExecdProcessThatEndsAtOnceIsReportedToItsSession) {
  guest.onExec(exitsWith(3, "exec out", "exec err"));
  startLoop();
  start();
  ExecSession exec = openExec();
  ASSERT_EQ(control::typeName(*exec.reply), "exec_started") << describe(exec.reply);
  EXPECT_EQ(describe(replyWithin(exec.connection.get())), "exited exit 3");
  EXPECT_EQ(readToEnd(exec.out.read.get()), "exec out");
  EXPECT_EQ(readToEnd(exec.err.read.get()), "exec err");
}

TEST_F(MonitorLoopTest, AnExecdProcessGetsTheInputOfItsPipe) {
  startLoop();
  start();
  ExecSession exec = openExec();
  ASSERT_EQ(control::typeName(*exec.reply), "exec_started") << describe(exec.reply);
  writeAll(exec.in.write.get(), "exec input");
  exec.in.write.reset();
  EXPECT_TRUE(guestSaw("close_stdin 1"));
  EXPECT_EQ(guest.recorded().stdinBytes[1], "exec input");
  guest.sendExit(1, 0);
  EXPECT_EQ(describe(replyWithin(exec.connection.get())), "exited exit 0");
}

TEST_F(MonitorLoopTest, ASignalOnTheExecSessionIsForwardedToItsProcess) {
  guest.onExec(diesOfSignals());
  startLoop();
  start();
  ExecSession exec = openExec();
  control::send(exec.connection.get(), control::Signal{SIGINT});
  EXPECT_EQ(describe(replyWithin(exec.connection.get())),
            "exited killed by " + std::to_string(SIGINT));
  EXPECT_EQ(requests(),
            (std::vector<std::string>{"start_container web", "exec_process web 1 /bin/sh -c work",
                                      "signal_process 1 2"}));
  EXPECT_TRUE(stillRunningAfter(0));
}

TEST_F(MonitorLoopTest, AnExecSessionThatClosesEarlyKillsItsProcess) {
  startLoop();
  start();
  {
    ExecSession exec = openExec();
    ASSERT_EQ(control::typeName(*exec.reply), "exec_started") << describe(exec.reply);
  }
  EXPECT_TRUE(guestSaw("signal_process 1 9"));
  EXPECT_TRUE(stillRunningAfter(0));
}

// The exec_started reply used to fail, and the process went on in the guest untracked: its output
// dropped, never killed, never reported.
TEST_F(MonitorLoopTest, AnExecMonitorGoneBeforeItsProcessStartedHasItKilled) {
  startLoop();
  start();
  {
    // Sends the request and goes away without waiting for exec_started.
    Pipe in, out, err;
    UniqueFd connection = control::connect(controlSocket());
    control::send(connection.get(), control::Exec{},
                  {in.read.get(), out.write.get(), err.write.get()});
  }
  EXPECT_TRUE(guestSaw("exec_process web 1"));
  EXPECT_TRUE(guestSaw("signal_process 1 9"))
      << "the exec'd process runs on with nobody to wait for it";
  EXPECT_TRUE(stillRunningAfter(0));
}

TEST_F(MonitorLoopTest, ExecNumbersItsProcessesAndNeedsThreeFds) {
  guest.onExec(exitsWith(0));
  startLoop();
  start();
  ExecSession first = openExec();
  ExecSession second = openExec();
  EXPECT_EQ(std::get<control::ExecStarted>(*first.reply).process, 1u);
  EXPECT_EQ(std::get<control::ExecStarted>(*second.reply).process, 2u);
  UniqueFd connection = control::connect(controlSocket());
  control::send(connection.get(), control::Exec{}, {stdinPipe.read.get()});
  EXPECT_EQ(describe(replyWithin(connection.get())), "failed exec: expected 3 fds");
}

TEST_F(MonitorLoopTest, AnExecTheGuestRefusesFailsWithRuncsPrefix) {
  guest.answer("exec_process",
               FakeAgent::Answer::error(R"(exec: "nope": executable file not found in $PATH)"));
  startLoop();
  start();
  ExecSession exec = openExec({"nope"});
  EXPECT_EQ(
      describe(exec.reply),
      R"(failed unable to start container process: exec: "nope": executable file not found in $PATH)");
  EXPECT_TRUE(stillRunningAfter(0));
}

// As the exec monitor does with a terminal: its pty alone, for input and output.
TEST_F(MonitorLoopTest, ATerminalExecSessionRelaysItsPtyAndItsResizes) {
  startLoop();
  start();
  HostPty pty = openHostPty();
  RawMode raw(pty.slave.get());
  agent::ProcessSpec spec;
  spec.args = {"/bin/sh"};
  spec.terminal = true;
  UniqueFd connection = control::connect(controlSocket());
  control::send(connection.get(), control::Exec{spec}, {pty.slave.get()});
  ASSERT_EQ(describe(replyWithin(connection.get())), "exec_started");
  control::send(connection.get(), control::Resize{30, 100});
  EXPECT_TRUE(guestSaw("resize_terminal 1 30x100"));
  writeAll(pty.master.get(), "exit\r");
  EXPECT_TRUE(guest.waitUntil([](const FakeAgent::Recorded& r) { return r.stdinBytes.count(1); },
                              kPatience));
  EXPECT_EQ(guest.recorded().stdinBytes[1], "exit\r");
  guest.sendOutput(1, agent::Stream::Stdout, "bye\r\n");
  EXPECT_EQ(readUpTo(pty.master.get(), 5), "bye\r\n");
  guest.sendExit(1, 0);
  EXPECT_EQ(describe(replyWithin(connection.get())), "exited exit 0");
}

TEST_F(MonitorLoopTest, TheInitsExitEndsEveryExecSession) {
  startLoop();
  start();
  ExecSession exec = openExec();
  ASSERT_EQ(control::typeName(*exec.reply), "exec_started") << describe(exec.reply);
  guest.sendExit(0, 0);
  // Its pid namespace is gone: so is the exec'd process.
  EXPECT_EQ(describe(replyWithin(exec.connection.get())), "exited killed by 9");
  EXPECT_EQ(describe(waitForExit()), "exit 0");
}

// ---- a guest that goes away or misbehaves ----

TEST_F(MonitorLoopTest, AGuestThatDiesMidRunEndsTheContainerAsKilled) {
  startLoop();
  start();
  guest.sendOutput(0, agent::Stream::Stdout, "before the crash");
  guest.closeChannel();
  EXPECT_EQ(describe(waitForExit()), "killed by 9");
  EXPECT_EQ(readUpTo(stdoutPipe.read.get(), 16), "before the crash");
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

// The loop runs the handlers of one poll in turn, the agent channel's first: input that was ready
// in the same poll as the end of the channel used to be written to the closed channel, and the
// EPIPE escaped run().
TEST_F(MonitorLoopTest, InputThatComesAsTheGuestDiesIsDropped) {
  MonitorLoopTiming timing = kTestTiming;
  timing.controlReceiveSeconds = 0.5;
  startLoop(timing);
  start();
  // A client that says nothing holds the loop in its receive while both happen.
  UniqueFd silent = control::connect(controlSocket());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  guest.closeChannel();
  ASSERT_TRUE(guest.waitUntil([](const FakeAgent::Recorded& r) { return r.channelClosed; }));
  writeAll(stdinPipe.write.get(), "typed as the VM died");
  EXPECT_EQ(describe(waitForExit()), "killed by 9");
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

TEST_F(MonitorLoopTest, AGuestThatDiesBeforeStartEndsTheContainerAsKilled) {
  startLoop();
  guest.closeChannel();
  EXPECT_EQ(describe(waitForExit()), "killed by 9");
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

TEST_F(MonitorLoopTest, AVirtiofsdThatExitsEndsTheContainerAndItsVm) {
  test::SleepingChild virtiofsd;
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, virtiofsd.pid(), 0)));
  ASSERT_TRUE(pidfd) << "pidfd_open: " << strerror(errno);
  session.virtiofsd.push_back(std::move(pidfd));
  startLoop();
  start();
  EXPECT_TRUE(stillRunningAfter(0.1));
  ASSERT_EQ(::kill(virtiofsd.pid(), SIGKILL), 0);
  EXPECT_EQ(describe(waitForExit()), "killed by 9");
  EXPECT_EQ(hypervisor.calls(), std::vector<std::string>{"destroy runvirt-web"});
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

// run() used to throw the client's error: the container's record stayed `running` and output that
// came in the same read as the bad frame was dropped.
TEST_F(MonitorLoopTest, AGuestThatBreaksTheProtocolIsDestroyedAndTheContainerEndsAsKilled) {
  startLoop();
  start();
  guest.sendOutput(0, agent::Stream::Stdout, "sane output");
  guest.sendRaw(FakeAgent::malformedJson());
  EXPECT_EQ(describe(waitForExit()), "killed by 9");
  EXPECT_EQ(readUpTo(stdoutPipe.read.get(), 11), "sane output");  // what came before the garbage
  EXPECT_EQ(hypervisor.calls(), std::vector<std::string>{"destroy runvirt-web"});
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

// The monitor ends itself the way the guest says its init ended: a guest that reported SIGSTOP
// used to stop the monitor (Docker hung on it), and 256 became exit 0. Such an exit is a protocol
// error: the VM is destroyed and the container ends as killed.
class MonitorLoopImpossibleExit : public MonitorLoopTest,
                                  public ::testing::WithParamInterface<agent::ProcessExited> {};

TEST_P(MonitorLoopImpossibleExit, DestroysTheVmAndEndsTheContainerAsKilled) {
  startLoop();
  start();
  guest.sendMessage(GetParam());
  EXPECT_EQ(describe(waitForExit()), "killed by 9");
  EXPECT_EQ(hypervisor.calls(), std::vector<std::string>{"destroy runvirt-web"});
  EXPECT_EQ(storedStatus(), oci::Status::Stopped);
}

INSTANTIATE_TEST_SUITE_P(
    Exits, MonitorLoopImpossibleExit,
    ::testing::Values(agent::ProcessExited{0, 0, SIGSTOP}, agent::ProcessExited{0, 0, SIGTTOU},
                      agent::ProcessExited{0, 0, SIGCHLD}, agent::ProcessExited{0, 0, 65},
                      agent::ProcessExited{0, 256, 0}, agent::ProcessExited{0, -1, 0}),
    [](const ::testing::TestParamInfo<agent::ProcessExited>& info) {
      const auto& e = info.param;
      return e.signal ? "Signal" + std::to_string(e.signal)
                      : "Code" + std::string(e.code < 0 ? "Minus" : "") +
                            std::to_string(std::abs(e.code));
    });

// ---- slow and absent readers ----

TEST_F(MonitorLoopTest, OutputNobodyReadsStopsTheLoopReadingTheGuestUntilItIsRead) {
  startLoop();
  start();
  std::string flood = patterned(8 << 20);  // twice the loop's limit
  guest.sendOutput(0, agent::Stream::Stdout, flood);
  guest.sendOutput(0, agent::Stream::Stderr, "after the flood");
  // Stderr is free to take it, but the loop has stopped reading the channel it comes on.
  EXPECT_FALSE(readableWithin(stderrPipe.read.get(), 0.5)) << "the loop read past its output limit";
  roundTrip();  // and still serves requests meanwhile
  EXPECT_TRUE(readUpTo(stdoutPipe.read.get(), flood.size()) == flood);
  EXPECT_EQ(readUpTo(stderrPipe.read.get(), 15), "after the flood");
}

TEST_F(MonitorLoopTest, AfterTheExitASlowReaderStillGetsAllTheOutput) {
  startLoop(drainingFor(3));
  start();
  std::string output = patterned(1 << 20);
  guest.sendOutput(0, agent::Stream::Stdout, output);
  guest.sendExit(0, 5);
  EXPECT_TRUE(stillRunningAfter(0.3)) << "ended with output still to deliver";
  EXPECT_TRUE(readUpTo(stdoutPipe.read.get(), output.size()) == output);
  EXPECT_EQ(describe(waitForExit()), "exit 5");
}

TEST_F(MonitorLoopTest, AReaderThatNeverReadsHoldsTheExitOnlyUntilTheDrainDeadline) {
  startLoop(drainingFor(0.5));
  start();
  guest.sendOutput(0, agent::Stream::Stdout, patterned(1 << 20));
  double exited = log::monotonicSeconds();
  guest.sendExit(0, 0);
  EXPECT_EQ(describe(waitForExit()), "exit 0");
  double waited = log::monotonicSeconds() - exited;
  EXPECT_GE(waited, 0.5);
  EXPECT_LT(waited, 3);
}

// A closed agent channel reports POLLHUP on every poll, whatever was asked: the loop used to poll
// it while it drained the output of a guest that had died, and spun on a core for the drain time.
TEST_F(MonitorLoopTest, DrainingTheOutputOfAGuestThatDiedDoesNotSpin) {
  startLoop(drainingFor(3));
  start();
  guest.sendOutput(0, agent::Stream::Stdout, patterned(1 << 20));  // more than the pipe takes
  guest.closeChannel();
  ASSERT_TRUE(becomes(oci::Status::Stopped));
  clockid_t loopClock;
  ASSERT_EQ(pthread_getcpuclockid(loopThread.native_handle(), &loopClock), 0);
  auto cpuSeconds = [&] {
    timespec t{};
    clock_gettime(loopClock, &t);
    return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
  };
  double before = cpuSeconds();
  EXPECT_TRUE(stillRunningAfter(0.5));  // waiting for a reader
  EXPECT_LT(cpuSeconds() - before, 0.1) << "the loop was busy while it had nothing to do";
  readUpTo(stdoutPipe.read.get(), 1 << 20);
  EXPECT_EQ(describe(waitForExit()), "killed by 9");
}

TEST_F(MonitorLoopTest, AReaderThatWentAwayDoesNotHoldTheExit) {
  IgnoredSignal sigpipe(SIGPIPE);  // as in the monitor
  startLoop(drainingFor(5));
  start();
  stdoutPipe.read.reset();
  guest.sendOutput(0, agent::Stream::Stdout, patterned(1 << 20));
  double exited = log::monotonicSeconds();
  guest.sendExit(0, 0);
  EXPECT_EQ(describe(waitForExit()), "exit 0");
  EXPECT_LT(log::monotonicSeconds() - exited, 3);
}

// ---- a terminal ----

class MonitorLoopTerminalTest : public MonitorLoopTest {
 protected:
  void SetUp() override {
    MonitorLoopTest::SetUp();
    pty = openHostPty();
    raw =
        RawMode(pty.slave.get());  // as the monitor's own pty: the guest's does the line discipline
    resize(24, 80);
    stdio.terminal = true;
    stdio.in = stdio.out = stdio.sizeSource = pty.slave.get();
    stdio.err = -1;
  }

  void resize(unsigned short rows, unsigned short cols) {
    winsize size{rows, cols, 0, 0};
    ASSERT_EQ(ioctl(pty.master.get(), TIOCSWINSZ, &size), 0);
  }

  HostPty pty;
  RawMode raw;
};

TEST_F(MonitorLoopTerminalTest, RelaysThePtyAndItsWindowSize) {
  startLoop();
  start();
  EXPECT_TRUE(guestSaw("resize_terminal 0 24x80"));  // its size at start
  resize(50, 132);
  deliver(SIGWINCH);
  EXPECT_TRUE(guestSaw("resize_terminal 0 50x132"));
  writeAll(pty.master.get(), "ls\r");
  EXPECT_TRUE(guest.waitUntil([](const FakeAgent::Recorded& r) { return r.stdinBytes.count(0); },
                              kPatience));
  EXPECT_EQ(guest.recorded().stdinBytes[0], "ls\r");
  guest.sendOutput(0, agent::Stream::Stdout, "bin etc\r\n");
  EXPECT_EQ(readUpTo(pty.master.get(), 9), "bin etc\r\n");
  guest.sendExit(0, 0);
  EXPECT_EQ(describe(waitForExit()), "exit 0");
  EXPECT_EQ(requests(), (std::vector<std::string>{"start_container web", "resize_terminal 0 24x80",
                                                  "resize_terminal 0 50x132"}));
}

// The real agent sends a terminal's output as stdout, but a guest may say stderr: those bytes
// used to wait in a sink the loop never wrote (it shares the pty's fd with stdout's), and held
// the exit until the drain deadline.
TEST_F(MonitorLoopTerminalTest, StderrFromTheGuestGoesToThePtyToo) {
  startLoop(drainingFor(3));
  start();
  guest.sendOutput(0, agent::Stream::Stdout, "out ");
  guest.sendOutput(0, agent::Stream::Stderr, "err ");
  guest.sendOutput(0, agent::Stream::Stdout, "out");
  EXPECT_EQ(readUpTo(pty.master.get(), 11, 1), "out err out");
  double exited = log::monotonicSeconds();
  guest.sendExit(0, 0);
  EXPECT_EQ(describe(waitForExit()), "exit 0");
  EXPECT_LT(log::monotonicSeconds() - exited, 2)
      << "the exit waited for output that could not be written";
}

}  // namespace
}  // namespace runvirt::backend

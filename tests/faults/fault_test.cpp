#include "faults/fault_test.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace runvirt::faults {

namespace {

// The number of lines `docker logs` shows.
std::size_t logLines(const std::string& container) {
  std::string out = docker({"logs", container}).out;
  return static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n'));
}

}  // namespace

void FaultTest::SetUpTestSuite() {
  startDaemons();
  Result info = docker({"info", "--format", "{{json .Runtimes}}"}, 30);
  ASSERT_NE(info.out.find("\"runvirt\""), std::string::npos)
      << "runvirt is not a Docker runtime: " << info.out;
}

void FaultTest::SetUp() {
  startDaemons();
  before_ = runvirtTraces();
}

void FaultTest::TearDown() {
  startDaemons();
  for (const auto& n : names_) docker({"rm", "-f", n});
  // Teardown finishes behind `docker rm`: give it a moment before judging.
  std::string left;
  for (int i = 0; i < 50; ++i) {
    left = tracesAdded(before_, runvirtTraces());
    if (left.empty()) break;
    sleepFor(0.2);
  }
  EXPECT_EQ(left, "") << "left on the host by this test";
}

std::string FaultTest::name(const std::string& suffix) {
  static std::atomic<int> counter{0};
  std::string n = "rvfault-" + std::to_string(getpid()) + "-" + std::to_string(++counter) +
                  (suffix.empty() ? "" : "-" + suffix);
  names_.push_back(n);
  return n;
}

std::string FaultTest::startTicker(const std::vector<std::string>& options) {
  std::string n = name();
  std::vector<std::string> args = {"run", "-d", "--runtime=runvirt", "--name", n};
  args.insert(args.end(), options.begin(), options.end());
  for (std::string a : {"busybox", "sh", "-c", "while true; do echo tick; sleep 1; done"})
    args.push_back(a);
  Result r = docker(args);
  EXPECT_EQ(r.status, 0) << r.err;
  return n;
}

std::string FaultTest::inspect(const std::string& container, const std::string& format) {
  std::string out = docker({"inspect", "--format", format, container}).out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void FaultTest::expectUsable(const std::string& container) {
  EXPECT_EQ(inspect(container, "{{.State.Status}}"), "running");
  Result exec = docker({"exec", container, "echo", "answers"});
  EXPECT_EQ(exec.out, "answers\n") << exec.err;
  std::size_t lines = logLines(container);
  sleepFor(2.5);
  EXPECT_GT(logLines(container), lines) << "the container's log stopped growing";
  std::string gateway =
      inspect(container, "{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}");
  if (!gateway.empty()) {
    Result ping = docker({"exec", container, "ping", "-c", "1", "-W", "5", gateway});
    EXPECT_EQ(ping.status, 0) << "network: " << ping.out << ping.err;
  }
  Result pause = docker({"pause", container});
  EXPECT_EQ(pause.status, 0) << pause.err;
  EXPECT_EQ(inspect(container, "{{.State.Status}}"), "paused");
  Result unpause = docker({"unpause", container});
  EXPECT_EQ(unpause.status, 0) << unpause.err;
  EXPECT_EQ(docker({"exec", container, "echo", "again"}).out, "again\n");
}

void FaultTest::expectStopsAndGoes(const std::string& container) {
  Result stop = docker({"stop", "-t", "2", container});
  EXPECT_EQ(stop.status, 0) << stop.err;
  EXPECT_EQ(inspect(container, "{{.State.Status}}"), "exited");
  Result rm = docker({"rm", container});
  EXPECT_EQ(rm.status, 0) << rm.err;
}

ReachabilityProbe::ReachabilityProbe(std::string container)
    : container_(std::move(container)), thread_([this] {
        double failingSince = 0;  // when the first exec of the current outage was started
        while (running_) {
          double started = now();
          bool answered = docker({"exec", container_, "true"}, 60).status == 0;
          if (!answered && failingSince == 0) failingSince = started;
          if (answered && failingSince != 0) {
            longestGap_ = std::max(longestGap_, now() - failingSince);
            failingSince = 0;
          }
          sleepFor(0.2);
        }
        if (failingSince != 0) longestGap_ = std::max(longestGap_, now() - failingSince);
      }) {}

ReachabilityProbe::~ReachabilityProbe() { stop(); }

double ReachabilityProbe::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  return longestGap_;
}

}  // namespace runvirt::faults

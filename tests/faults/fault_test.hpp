// A fault-injection test: Docker containers under the installed runvirt, a daemon or a process
// of the VM taken away under them, and afterwards nothing of runvirt's left on the host.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "faults/host.hpp"

namespace runvirt::faults {

class FaultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  void SetUp() override;
  // Puts every daemon back, removes the test's containers, then fails on anything runvirt left.
  void TearDown() override;

  // A fresh container name, removed after the test.
  std::string name(const std::string& suffix = "");
  // `docker run -d --runtime=runvirt [options] busybox` printing a line a second (so `docker
  // logs` shows whether it kept running); returns its name.
  std::string startTicker(const std::vector<std::string>& options = {});
  // The container answers exec, its log keeps growing, its network reaches the bridge gateway,
  // and pause/unpause work; checked after every fault the container must survive.
  void expectUsable(const std::string& container);
  // `docker stop` and `docker rm`, both succeeding.
  void expectStopsAndGoes(const std::string& container);
  std::string inspect(const std::string& container, const std::string& format);

  std::vector<std::string> names_;
  Traces before_;
};

// Measures how long `container` does not answer `docker exec` while a fault goes on: a thread
// execs `true` in a loop from construction to stop(); an outage lasts from the first exec that
// failed to the next that succeeded.
class ReachabilityProbe {
 public:
  explicit ReachabilityProbe(std::string container);
  ~ReachabilityProbe();
  // Stops probing; returns the longest outage in seconds (0 when every exec succeeded).
  double stop();

 private:
  std::string container_;
  std::atomic<bool> running_{true};
  double longestGap_ = 0;
  std::thread thread_;
};

}  // namespace runvirt::faults

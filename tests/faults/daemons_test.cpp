// The daemons under a running container: libvirtd stopped, killed or away for a while, virtlogd
// restarted, dockerd restarted with live-restore. The container keeps running and stays usable.
#include <signal.h>

#include <cstdio>

#include "faults/fault_test.hpp"

namespace runvirt::faults {
namespace {

class Daemons : public FaultTest {
 protected:
  // Takes libvirtd away with `signal`, keeps it away `downSeconds`, starts it again; the
  // container must answer throughout (it needs no libvirt to run) and be usable afterwards.
  void restartLibvirtdUnder(int signal, double downSeconds) {
    std::string c = startTicker();
    std::string vmUptimeBefore = docker({"exec", c, "cut", "-d.", "-f1", "/proc/uptime"}).out;
    ReachabilityProbe probe(c);
    double stopped = stopDaemon("libvirtd", signal, 10);
    EXPECT_GE(stopped, 0) << "libvirtd did not exit within 10 s of "
                          << (signal == SIGTERM ? "TERM" : "KILL");
    sleepFor(downSeconds);
    startDaemons();
    double outage = probe.stop();
    std::printf(
        "[ fault    ] libvirtd %s: exited in %.2f s, down %.0f s; container unreachable %.2f s\n",
        signal == SIGTERM ? "TERM" : "KILL", stopped, downSeconds, outage);
    EXPECT_EQ(outage, 0) << "the container did not answer exec for " << outage << " s";
    expectUsable(c);
    // The same VM, not a new one: the guest's uptime went on.
    std::string vmUptimeAfter = docker({"exec", c, "cut", "-d.", "-f1", "/proc/uptime"}).out;
    EXPECT_GT(std::stol("0" + vmUptimeAfter), std::stol("0" + vmUptimeBefore));
    expectStopsAndGoes(c);
  }
};

TEST_F(Daemons, LibvirtdStoppedWithTermAndStartedAgain) { restartLibvirtdUnder(SIGTERM, 1); }

TEST_F(Daemons, LibvirtdKilledAndStartedAgain) { restartLibvirtdUnder(SIGKILL, 1); }

TEST_F(Daemons, LibvirtdAwayForThirtySeconds) {
  std::string c = startTicker();
  ASSERT_GE(stopDaemon("libvirtd", SIGTERM, 10), 0);
  // What needs libvirt fails clearly meanwhile; what does not keeps working.
  Result pause = docker({"pause", c});
  EXPECT_NE(pause.status, 0);
  EXPECT_NE(pause.err.find("libvirt"), std::string::npos) << pause.err;
  EXPECT_EQ(docker({"exec", c, "echo", "still"}).out, "still\n");
  sleepFor(28);
  startDaemons();
  expectUsable(c);
  expectStopsAndGoes(c);
}

TEST_F(Daemons, VirtlogdRestarted) {
  std::string c = startTicker();
  ASSERT_GE(stopDaemon("virtlogd", SIGTERM, 10), 0);
  startDaemons();
  expectUsable(c);
  // A new container still starts (its console log goes through the new virtlogd).
  std::string second = startTicker();
  EXPECT_EQ(inspect(second, "{{.State.Status}}"), "running");
  expectStopsAndGoes(c);
  expectStopsAndGoes(second);
}

// libvirt 9.0 deadlocked on TERM when it had to autodestroy domains tied to a closing
// connection; runvirt no longer ties them, so libvirtd stops promptly however many run.
TEST_F(Daemons, LibvirtdStopsWithinTenSecondsWithTenContainers) {
  std::vector<std::string> containers;
  for (int i = 0; i < 10; ++i) containers.push_back(startTicker({"--network", "none"}));
  for (int round = 1; round <= 3; ++round) {
    double stopped = stopDaemon("libvirtd", SIGTERM, 10);
    std::printf("[ fault    ] round %d: libvirtd exited %.2f s after TERM with 10 containers\n",
                round, stopped);
    EXPECT_GE(stopped, 0) << "round " << round << ": libvirtd still running 10 s after TERM";
    startDaemons();
  }
  for (const auto& c : containers) {
    EXPECT_EQ(inspect(c, "{{.State.Status}}"), "running") << c;
    EXPECT_EQ(docker({"exec", c, "echo", "up"}).out, "up\n") << c;
  }
  for (const auto& c : containers) docker({"rm", "-f", c});
}

TEST_F(Daemons, DockerdLiveRestoreKeepsContainersAndReattaches) {
  std::string previous = setLiveRestore(true);
  struct Restore {
    std::string content;
    ~Restore() {
      restoreDaemonJson(content);
      stopDaemon("dockerd", SIGTERM, 30);
      startDaemons();
    }
  } restore{previous};
  // live-restore is read at start-up.
  ASSERT_GE(stopDaemon("dockerd", SIGTERM, 30), 0);
  startDaemons();
  std::string c = startTicker();
  std::string pidBefore = inspect(c, "{{.State.Pid}}");
  ASSERT_GE(stopDaemon("dockerd", SIGTERM, 30), 0);
  sleepFor(2);
  startDaemons();
  EXPECT_EQ(inspect(c, "{{.State.Pid}}"), pidBefore) << "the container was restarted, not kept";
  expectUsable(c);
  expectStopsAndGoes(c);
}

}  // namespace
}  // namespace runvirt::faults

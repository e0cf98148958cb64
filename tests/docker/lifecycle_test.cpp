// Signals and lifecycle through Docker: kill, stop, restart, pause, --init, wait, logs.
#include <unistd.h>

#include "docker/harness.hpp"

namespace runvirt::dockertest {
namespace {

class Lifecycle : public DockerTest {
 protected:
  std::string start(const std::string& runtime, const std::vector<std::string>& args,
                    const std::vector<std::string>& options = {}) {
    return startBusybox(runtime, options, args);
  }
  // A handler set up by the container's shell exists only once the shell ran that far.
  void waitForLog(const std::string& n, const std::string& text) {
    for (int i = 0; i < 100; ++i) {
      if (docker({"logs", n}).out.find(text) != std::string::npos) return;
      usleep(100000);
    }
    ADD_FAILURE() << n << " never logged " << text;
  }
  std::string inspect(const std::string& n, const std::string& format) {
    return trim(docker({"inspect", "-f", format, n}).out);
  }
};

TEST_F(Lifecycle, KillWithASignalTheProcessHandles) {
  for (const auto& runtime : kRuntimes) {
    std::string n = start(
        runtime, {"sh", "-c",
                  "trap 'echo got-usr1; exit 7' USR1; echo ready; while true; do sleep 0.2; done"});
    waitForLog(n, "ready");
    EXPECT_EQ(docker({"kill", "-s", "USR1", n}).status, 0) << runtime;
    EXPECT_EQ(trim(docker({"wait", n}).out), "7") << runtime;
    EXPECT_NE(docker({"logs", n}).out.find("got-usr1"), std::string::npos) << runtime;
  }
}

TEST_F(Lifecycle, StopFallsBackToKillAfterTheTimeout) {
  for (const auto& runtime : kRuntimes) {
    std::string n = start(runtime, {"sleep", "600"});  // PID 1 without a TERM handler ignores TERM
    EXPECT_EQ(docker({"stop", "-t", "1", n}).status, 0) << runtime;
    EXPECT_EQ(inspect(n, "{{.State.ExitCode}}"), "137") << runtime;
  }
}

TEST_F(Lifecycle, StopWithATermHandlerExitsCleanly) {
  for (const auto& runtime : kRuntimes) {
    std::string n = start(
        runtime, {"sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 0.2; done"});
    waitForLog(n, "ready");
    EXPECT_EQ(docker({"stop", "-t", "20", n}).status, 0) << runtime;
    EXPECT_EQ(inspect(n, "{{.State.ExitCode}}"), "0") << runtime;
  }
}

TEST_F(Lifecycle, Restart) {
  for (const auto& runtime : kRuntimes) {
    std::string n = start(runtime, {"sh", "-c", "echo started; sleep 600"});
    EXPECT_EQ(docker({"restart", "-t", "1", n}).status, 0) << runtime;
    EXPECT_EQ(inspect(n, "{{.State.Status}}"), "running") << runtime;
    EXPECT_EQ(docker({"exec", n, "echo", "alive"}).out, "alive\n") << runtime;
    Result logs = docker({"logs", n});
    EXPECT_EQ(logs.out, "started\nstarted\n") << runtime;
  }
}

TEST_F(Lifecycle, PauseAndUnpause) {
  for (const auto& runtime : kRuntimes) {
    std::string n = start(runtime, {"sleep", "600"});
    EXPECT_EQ(docker({"pause", n}).status, 0) << runtime;
    EXPECT_EQ(inspect(n, "{{.State.Status}}"), "paused") << runtime;
    EXPECT_EQ(docker({"unpause", n}).status, 0) << runtime;
    EXPECT_EQ(inspect(n, "{{.State.Status}}"), "running") << runtime;
    EXPECT_EQ(docker({"exec", n, "echo", "after"}).out, "after\n") << runtime;
  }
}

TEST_F(Lifecycle, InitProcess) {
  Result r = expectSame({"--init", "busybox", "cat", "/proc/1/comm"});
  EXPECT_EQ(r.out, "docker-init\n");
}

TEST_F(Lifecycle, WaitAndLogsAfterExit) {
  for (const auto& runtime : kRuntimes) {
    std::string n = start(runtime, {"sh", "-c", "echo to-out; echo to-err >&2; exit 4"});
    EXPECT_EQ(trim(docker({"wait", n}).out), "4") << runtime;
    Result logs = docker({"logs", n});
    EXPECT_EQ(logs.out, "to-out\n") << runtime;
    EXPECT_EQ(logs.err, "to-err\n") << runtime;
  }
}

TEST_F(Lifecycle, RemoveForceOfARunningContainer) {
  for (const auto& runtime : kRuntimes) {
    std::string n = start(runtime, {"sleep", "600"});
    EXPECT_EQ(docker({"rm", "-f", n}).status, 0) << runtime;
    EXPECT_NE(docker({"inspect", n}).status, 0) << runtime;
  }
}

}  // namespace
}  // namespace runvirt::dockertest

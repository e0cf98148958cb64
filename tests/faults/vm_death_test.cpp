// A part of the container's VM dies under it: virtiofsd, QEMU, the monitor, the guest kernel.
// The container ends with a non-zero status that Docker sees, and nothing is left.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "faults/fault_test.hpp"

namespace runvirt::faults {
namespace {

class VmDeath : public FaultTest {
 protected:
  // The container's libvirt domain, from runvirt's record under the --root Docker gives it.
  std::string domainOf(const std::string& container) {
    std::string id = inspect(container, "{{.Id}}");
    std::ifstream in("/run/docker/runtime-runc/moby/" + id + "/state.json");
    std::stringstream text;
    text << in.rdbuf();
    auto record = nlohmann::json::parse(text.str(), nullptr, false);
    return record.is_object() ? record.value("domainName", "") : "";
  }

  // Waits until Docker sees the container exit; returns the seconds it took (< 0: it did not).
  double waitForExit(const std::string& container, double timeoutSeconds) {
    double start = now();
    while (now() - start < timeoutSeconds) {
      if (inspect(container, "{{.State.Status}}") == "exited") return now() - start;
      sleepFor(0.1);
    }
    return -1;
  }

  void killAndExpectExit(const std::string& what, const std::vector<pid_t>& pids,
                         const std::string& container, double timeoutSeconds, int expectedStatus) {
    ASSERT_FALSE(pids.empty()) << "no " << what << " process found";
    for (pid_t pid : pids) kill(pid, SIGKILL);
    double exited = waitForExit(container, timeoutSeconds);
    std::printf("[ fault    ] %s killed: Docker saw the exit after %.2f s\n", what.c_str(), exited);
    EXPECT_GE(exited, 0) << "the container did not exit within " << timeoutSeconds << " s of "
                         << what << "'s death";
    EXPECT_EQ(inspect(container, "{{.State.ExitCode}}"), std::to_string(expectedStatus));
    EXPECT_EQ(docker({"rm", container}).status, 0);
  }
};

TEST_F(VmDeath, VirtiofsdKilledEndsTheContainerWithinFiveSeconds) {
  std::string c = startTicker();
  std::string domain = domainOf(c);
  ASSERT_FALSE(domain.empty());
  killAndExpectExit("virtiofsd",
                    pidsWithCommandLine("source=/run/runvirt-vms/" + domain + "/share"), c, 5, 137);
}

TEST_F(VmDeath, QemuKilledEndsTheContainerWith137) {
  std::string c = startTicker();
  std::string domain = domainOf(c);
  ASSERT_FALSE(domain.empty());
  killAndExpectExit("QEMU", pidsWithCommandLine("guest=" + domain + ","), c, 10, 137);
}

TEST_F(VmDeath, MonitorKilledEndsTheContainerWith137) {
  std::string c = startTicker();
  pid_t monitor = static_cast<pid_t>(std::stol(inspect(c, "{{.State.Pid}}")));
  killAndExpectExit("monitor", {monitor}, c, 10, 137);
}

TEST_F(VmDeath, GuestKernelPanicEndsTheContainerWith137) {
  std::string c = startTicker({"--privileged"});
  // Crashing the guest kernel is the container's own business: it takes only its own VM.
  docker({"exec", "-d", c, "sh", "-c", "echo c > /proc/sysrq-trigger"});
  double exited = waitForExit(c, 15);
  EXPECT_GE(exited, 0) << "the container outlived its guest kernel";
  EXPECT_EQ(inspect(c, "{{.State.ExitCode}}"), "137");
  EXPECT_EQ(docker({"rm", c}).status, 0);
}

}  // namespace
}  // namespace runvirt::faults

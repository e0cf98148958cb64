// Resource limits and accounting: -m, --cpus and --pids-limit act as under runc, and the host
// cost of a runvirt container (monitor + QEMU + virtiofsd) is what `docker stats` shows.
//
// Known differences, asserted per runtime below rather than compared:
// - the container sees cgroup v2 in the guest (its own cgroup at /sys/fs/cgroup, 0::/ in
//   /proc/self/cgroup), not this host's cgroup v1 hierarchies;
// - nproc: runc shows the host's CPUs (a CPU quota is not an affinity), runvirt the VM's vCPUs,
//   ceil(quota/period);
// - an OOM kill in the guest is not an OOM event of the host cgroup: State.OOMKilled stays false
//   (the exit status is 137 under both);
// - docker stats shows the VM's host processes, with the host's memory as the limit.
#include <algorithm>
#include <filesystem>

#include "docker/harness.hpp"

namespace runvirt::dockertest {
namespace {

class Resources : public DockerTest {
 protected:
  // `docker run --rm --runtime=R ARGS...` for one runtime.
  Result runOn(const std::string& runtime, const std::vector<std::string>& args) {
    std::vector<std::string> full = {"run", "--rm", "--runtime=" + runtime, "--name",
                                     name(runtime)};
    full.insert(full.end(), args.begin(), args.end());
    return docker(full);
  }

  // Starts `busybox sleep 300` detached; returns the container id.
  std::string startSleeper(const std::string& runtime, const std::string& containerName) {
    Result r = docker(
        {"run", "-d", "--runtime=" + runtime, "--name", containerName, "busybox", "sleep", "300"});
    EXPECT_EQ(r.status, 0) << r.err;
    return trim(r.out);
  }

  std::string inspect(const std::string& containerName, const std::string& format) {
    return trim(docker({"inspect", "-f", format, containerName}).out);
  }
};

// Every directory named <id> under /sys/fs/cgroup/<hierarchy>/docker/.
std::vector<std::string> cgroupDirectoriesOf(const std::string& id) {
  std::vector<std::string> found;
  for (const auto& hierarchy : std::filesystem::directory_iterator("/sys/fs/cgroup")) {
    auto dir = hierarchy.path() / "docker" / id;
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) found.push_back(dir.string());
  }
  return found;
}

// "100.6MiB / 23.54GiB" -> 100.6 * 2^20.
double usageBytes(const std::string& memUsage) {
  std::size_t end = 0;
  double value = std::stod(memUsage, &end);
  std::string unit = memUsage.substr(end, memUsage.find(' ') - end);
  if (unit == "KiB") return value * 1024;
  if (unit == "MiB") return value * 1024 * 1024;
  if (unit == "GiB") return value * 1024 * 1024 * 1024;
  return value;
}

constexpr const char* kAllocate200MB =
    "x=$(head -c 200000000 /dev/zero | tr '\\0' x); echo survived";

// The shell (the container's init) grows past the limit: the kernel OOM-kills it, exit 137.
TEST_F(Resources, MemoryLimitOomKillsTheInitLikeRunc) {
  Result r = expectSame({"-m", "64m", "busybox", "sh", "-c", kAllocate200MB}, "", 137);
  EXPECT_EQ(r.status, 137) << r.err;
  EXPECT_EQ(r.out, "");
}

// One allocation larger than the whole VM: it must still be the limit that stops it (137),
// not the guest refusing the allocation (dd: out of memory, exit 1).
TEST_F(Resources, AllocationLargerThanTheVmIsOomKilledLikeRunc) {
  Result r = expectSame(
      {"-m", "64m", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1"}, "",
      137);
  EXPECT_EQ(r.status, 137) << r.err;
}

TEST_F(Resources, StayingUnderTheLimitIsUnaffected) {
  Result r = expectSame({"-m", "64m", "busybox", "sh", "-c",
                         "x=$(head -c 10000000 /dev/zero | tr '\\0' x); echo ${#x}; "
                         "dd if=/dev/zero of=/dev/null bs=30M count=1 2>/dev/null && echo dd ok"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "10000000\ndd ok\n");
}

// runc shows this host's cgroup v1 memory hierarchy; the guest shows cgroup v2, rooted at the
// container's own cgroup.
TEST_F(Resources, TheContainerSeesItsMemoryLimit) {
  Result runc =
      runOn("runc", {"-m", "64m", "busybox", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"});
  EXPECT_EQ(trim(runc.out), "67108864") << runc.err;
  Result runvirt =
      runOn("runvirt", {"-m", "64m", "--pids-limit", "10", "busybox", "sh", "-c",
                        "cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max"});
  EXPECT_EQ(runvirt.status, 0) << runvirt.err;
  EXPECT_EQ(runvirt.out, "0::/\n67108864\n10\n");
}

// The VM gets ceil(quota/period) vCPUs. runc prints the host's count whatever --cpus says.
TEST_F(Resources, CpusSetsTheVcpuCount) {
  for (auto [cpus, expected] : {std::pair{"2", "2"}, std::pair{"1.5", "2"}, std::pair{"1", "1"}}) {
    Result r = runOn("runvirt", {"--cpus", cpus, "busybox", "nproc"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(trim(r.out), expected) << "--cpus " << cpus;
  }
}

// The 10th process cannot be forked: busybox sh gives up with "can't fork" and status 2.
TEST_F(Resources, PidsLimitStopsAForkBombLikeRunc) {
  Result r = expectSame({"--pids-limit", "10", "busybox", "sh", "-c",
                         "i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); echo $i; done"},
                        "", 2);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.out, "1\n2\n3\n4\n5\n6\n7\n8\n9\n");
  EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.err;
}

// The pid Docker's shim watches (the monitor) is in the container's cgroup with QEMU and
// virtiofsd, so docker stats shows what the VM costs the host, not ~0.
TEST_F(Resources, DockerStatsShowsTheVmsHostMemory) {
  std::string n = name("runvirt", "stats");
  std::string id = startSleeper("runvirt", n);
  ASSERT_FALSE(id.empty());
  std::string monitorCgroups =
      command({"cat", "/proc/" + inspect(n, "{{.State.Pid}}") + "/cgroup"}).out;
  EXPECT_NE(monitorCgroups.find("memory:/docker/" + id), std::string::npos) << monitorCgroups;
  Result procs = command({"cat", "/sys/fs/cgroup/memory/docker/" + id + "/cgroup.procs"});
  EXPECT_GE(std::count(procs.out.begin(), procs.out.end(), '\n'), 3)
      << "monitor, QEMU, virtiofsd: " << procs.out;
  Result stats = docker({"stats", "--no-stream", "--format", "{{.MemUsage}}", n});
  ASSERT_EQ(stats.status, 0) << stats.err;
  // A busybox sleep under runc shows under 1 MiB; the VM (guest RAM it touched, QEMU's own
  // memory after it joined the cgroup) tens of MiB.
  EXPECT_GT(usageBytes(stats.out), 20.0 * 1024 * 1024) << stats.out;
}

TEST_F(Resources, RemoveLeavesNoCgroupBehind) {
  std::string running = name("runvirt", "running");
  std::string id = startSleeper("runvirt", running);
  ASSERT_FALSE(id.empty());
  EXPECT_FALSE(cgroupDirectoriesOf(id).empty()) << "the running container has no host cgroup";
  EXPECT_EQ(docker({"rm", "-f", running}).status, 0);
  EXPECT_EQ(cgroupDirectoriesOf(id), std::vector<std::string>{});

  std::string exited = name("runvirt", "exited");
  EXPECT_EQ(docker({"run", "--runtime=runvirt", "--name", exited, "busybox", "true"}).status, 0);
  std::string exitedId = inspect(exited, "{{.Id}}");
  EXPECT_EQ(docker({"rm", exited}).status, 0);
  EXPECT_EQ(cgroupDirectoriesOf(exitedId), std::vector<std::string>{});
}

// No OOM event for a container that stayed under its limit (the host cgroup has no limit, so
// the host never reports one for a runvirt container; see the header).
TEST_F(Resources, NoFalseOomReport) {
  for (const auto& runtime : kRuntimes) {
    std::string n = name(runtime, "oom");
    Result r = docker({"run", "--runtime=" + runtime, "--name", n, "-m", "64m", "busybox", "dd",
                       "if=/dev/zero", "of=/dev/null", "bs=30M", "count=1"});
    EXPECT_EQ(r.status, 0) << runtime << ": " << r.err;
    EXPECT_EQ(inspect(n, "{{.State.OOMKilled}}"), "false") << runtime;
  }
}

}  // namespace
}  // namespace runvirt::dockertest

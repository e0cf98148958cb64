#include "docker/harness.hpp"

#include <unistd.h>

#include <atomic>

namespace runvirt::dockertest {

const std::vector<std::string> kRuntimes = {"runc", "runvirt"};

Result command(const std::vector<std::string>& argv, const std::string& input, double timeoutSeconds) {
  return testsupport::runCommand(argv, input, timeoutSeconds);
}

Result docker(const std::vector<std::string>& args, const std::string& input, double timeoutSeconds) {
  std::vector<std::string> argv = {"docker"};
  argv.insert(argv.end(), args.begin(), args.end());
  return command(argv, input, timeoutSeconds);
}

namespace {

// After the whole suite: nothing runvirt made may be left on the host.
class LeakCheck : public ::testing::Environment {
 public:
  void TearDown() override {
    Result domains = command({"virsh", "-c", "qemu:///system", "list", "--all", "--name"});
    EXPECT_EQ(domains.out.find("runvirt-"), std::string::npos) << "libvirt domains left: " << domains.out;
    Result containers = docker({"ps", "-a", "--format", "{{.Names}}"});
    EXPECT_EQ(containers.out.find("rvtest-"), std::string::npos) << "containers left: " << containers.out;
    Result links = command({"ip", "-o", "link"});
    EXPECT_EQ(links.out.find(": rv"), std::string::npos) << "tap devices left: " << links.out;
    Result mounts = command({"cat", "/proc/mounts"});
    EXPECT_EQ(mounts.out.find("/run/runvirt-vms/"), std::string::npos) << "mounts left: " << mounts.out;
  }
};

[[maybe_unused]] ::testing::Environment* const kLeakCheck = ::testing::AddGlobalTestEnvironment(new LeakCheck);

}  // namespace

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

void DockerTest::SetUpTestSuite() {
  // tests/docker/run.sh starts dockerd, imports the images and registers the runtimes.
  Result info = docker({"info", "--format", "{{json .Runtimes}}"}, "", 30);
  ASSERT_EQ(info.status, 0) << "dockerd is not reachable: " << info.err;
  for (const char* runtime : {"runc", "runvirt", "kata"}) {
    ASSERT_NE(info.out.find(std::string("\"") + runtime + "\""), std::string::npos)
        << runtime << " is not a registered Docker runtime: " << info.out;
  }
  ASSERT_EQ(docker({"image", "inspect", "busybox"}).status, 0) << "busybox image missing";
}

void DockerTest::TearDown() {
  for (const auto& n : names_) docker({"rm", "-f", n});
}

std::string DockerTest::name(const std::string& runtime, const std::string& suffix) {
  static std::atomic<int> counter{0};
  std::string n = "rvtest-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" + runtime +
                  (suffix.empty() ? "" : "-" + suffix);
  names_.push_back(n);
  return n;
}

std::vector<Result> DockerTest::runEach(const std::vector<std::string>& args, const std::string& input) {
  std::vector<Result> results;
  for (const auto& runtime : kRuntimes) {
    std::vector<std::string> full = {"run", "--rm", "--runtime=" + runtime, "--name", name(runtime)};
    if (!input.empty()) full.push_back("-i");
    full.insert(full.end(), args.begin(), args.end());
    results.push_back(docker(full, input));
  }
  return results;
}

Result DockerTest::expectSame(const std::vector<std::string>& args, const std::string& input) {
  std::vector<Result> results = runEach(args, input);
  std::string shown;
  for (const auto& a : args) shown += a + " ";
  EXPECT_EQ(results[0].status, results[1].status) << "exit status differs for: " << shown << "\nrunc: "
                                                  << results[0].err << "\nrunvirt: " << results[1].err;
  EXPECT_EQ(results[0].out, results[1].out) << "stdout differs for: " << shown;
  return results[1];
}

}  // namespace runvirt::dockertest

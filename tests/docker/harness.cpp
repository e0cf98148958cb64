#include "docker/harness.hpp"

#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <sstream>

namespace runvirt::dockertest {

const std::vector<std::string> kRuntimes = {"runc", "runvirt"};

Result command(const std::vector<std::string>& argv, const std::string& input,
               double timeoutSeconds) {
  return testsupport::runCommand(argv, input, timeoutSeconds);
}

Result docker(const std::vector<std::string>& args, const std::string& input,
              double timeoutSeconds) {
  std::vector<std::string> argv = {"docker"};
  argv.insert(argv.end(), args.begin(), args.end());
  return command(argv, input, timeoutSeconds);
}

namespace {

// Lines of `text` that contain `marker`.
std::set<std::string> linesWith(const std::string& text, const std::string& marker) {
  std::set<std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(marker) != std::string::npos) out.insert(line);
  }
  return out;
}

// What runvirt has on the host now: domains, containers, taps, share mounts.
std::map<std::string, std::set<std::string>> runvirtTraces() {
  return {
      {"libvirt domains",
       linesWith(command({"virsh", "-c", "qemu:///system", "list", "--all", "--name"}).out,
                 "runvirt-")},
      {"containers", linesWith(docker({"ps", "-a", "--format", "{{.Names}}"}).out, "rvtest-")},
      {"tap devices", linesWith(command({"ip", "-o", "link"}).out, ": rv")},
      {"mounts", linesWith(command({"cat", "/proc/mounts"}).out, "/run/runvirt-vms/")},
  };
}

// After the whole suite: nothing the suite made may be left on the host. What was there before
// it started (a developer's own containers) is not the suite's to judge.
class LeakCheck : public ::testing::Environment {
 public:
  void SetUp() override { before_ = runvirtTraces(); }
  void TearDown() override {
    for (const auto& [kind, traces] : runvirtTraces()) {
      std::string left;
      for (const auto& t : traces) {
        if (!before_[kind].count(t)) left += t + "\n";
      }
      EXPECT_TRUE(left.empty()) << kind << " left: " << left;
    }
  }

 private:
  std::map<std::string, std::set<std::string>> before_;
};

[[maybe_unused]] ::testing::Environment* const kLeakCheck =
    ::testing::AddGlobalTestEnvironment(new LeakCheck);

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
  std::string n = "rvtest-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" +
                  runtime + (suffix.empty() ? "" : "-" + suffix);
  names_.push_back(n);
  return n;
}

std::vector<Result> DockerTest::runEach(const std::vector<std::string>& args,
                                        const std::string& input) {
  std::vector<Result> results;
  for (const auto& runtime : kRuntimes) {
    std::vector<std::string> full = {"run", "--rm", "--runtime=" + runtime, "--name",
                                     name(runtime)};
    if (!input.empty()) full.push_back("-i");
    full.insert(full.end(), args.begin(), args.end());
    results.push_back(docker(full, input));
  }
  return results;
}

std::string DockerTest::startBusybox(const std::string& runtime,
                                     const std::vector<std::string>& options,
                                     const std::vector<std::string>& args, Result* result) {
  std::string n = name(runtime);
  std::vector<std::string> full = {"run", "-d", "--runtime=" + runtime, "--name", n};
  full.insert(full.end(), options.begin(), options.end());
  full.push_back("busybox");
  full.insert(full.end(), args.begin(), args.end());
  Result r = docker(full);
  EXPECT_EQ(r.status, 0) << r.err;
  if (result) *result = r;
  return n;
}

Result DockerTest::expectSame(const std::vector<std::string>& args, const std::string& input,
                              int expectedStatus) {
  std::vector<Result> results = runEach(args, input);
  std::string shown;
  for (const auto& a : args) shown += a + " ";
  EXPECT_EQ(results[0].status, expectedStatus)
      << "runc (the reference) exited " << results[0].status << " for: " << shown << "\n"
      << results[0].err;
  EXPECT_EQ(results[0].status, results[1].status)
      << "exit status differs for: " << shown << "\nrunc: " << results[0].err
      << "\nrunvirt: " << results[1].err;
  EXPECT_EQ(results[0].out, results[1].out) << "stdout differs for: " << shown;
  return results[1];
}

}  // namespace runvirt::dockertest

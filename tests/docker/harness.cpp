#include "docker/harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace runvirt::dockertest {

const std::vector<std::string> kRuntimes = {"runc", "runvirt"};

namespace {

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

}  // namespace

Result command(const std::vector<std::string>& argv, const std::string& input, double timeoutSeconds) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(err[0], F_SETFL, O_NONBLOCK);
  Result result;
  std::size_t written = 0;
  int openIn = in[1];
  if (input.empty()) {
    close(openIn);
    openIn = -1;
  }
  auto drain = [](int fd, std::string& into) {
    char buf[65536];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) into.append(buf, static_cast<std::size_t>(n));
  };
  double deadline = now() + timeoutSeconds;
  bool exited = false, timedOut = false;
  while (!exited) {
    std::vector<pollfd> fds = {{pidfd, POLLIN, 0}, {out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    if (openIn >= 0) fds.push_back({openIn, POLLOUT, 0});
    int ms = static_cast<int>((deadline - now()) * 1000);
    if (ms <= 0) {
      timedOut = true;
      break;
    }
    if (poll(fds.data(), fds.size(), ms) < 0) continue;
    drain(out[0], result.out);
    drain(err[0], result.err);
    if (openIn >= 0 && fds.back().revents) {
      ssize_t n = write(openIn, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == input.size()) {
        close(openIn);
        openIn = -1;
      }
    }
    exited = fds[0].revents != 0;
  }
  if (openIn >= 0) close(openIn);
  if (timedOut) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  drain(out[0], result.out);
  drain(err[0], result.err);
  close(out[0]);
  close(err[0]);
  close(pidfd);
  result.status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  if (timedOut) {
    std::string line;
    for (const auto& a : argv) line += a + " ";
    ADD_FAILURE() << "timed out after " << timeoutSeconds << " s: " << line;
  }
  return result;
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

// docker exec in a running container, runc vs runvirt.
#include <thread>

#include "docker/harness.hpp"

namespace runvirt::dockertest {
namespace {

class Exec : public DockerTest {
 protected:
  // One long-running container per runtime.
  void SetUp() override {
    for (const auto& runtime : kRuntimes) {
      std::string n = name(runtime, "exec");
      Result r =
          docker({"run", "-d", "--runtime=" + runtime, "--name", n, "busybox", "sleep", "600"});
      ASSERT_EQ(r.status, 0) << r.err;
      containers_.push_back(n);
    }
  }

  // Runs `docker exec FLAGS... <container> ARGS...` in each and expects the same result.
  // runc's side must exit with `expectedStatus`.
  Result expectSameExec(const std::vector<std::string>& flags, const std::vector<std::string>& args,
                        const std::string& input = "", int expectedStatus = 0) {
    std::vector<Result> results;
    for (const auto& c : containers_) {
      std::vector<std::string> full = {"exec"};
      full.insert(full.end(), flags.begin(), flags.end());
      full.push_back(c);
      full.insert(full.end(), args.begin(), args.end());
      results.push_back(docker(full, input));
    }
    EXPECT_EQ(results[0].status, expectedStatus) << "runc (the reference): " << results[0].err;
    EXPECT_EQ(results[0].status, results[1].status) << results[0].err << " / " << results[1].err;
    EXPECT_EQ(results[0].out, results[1].out);
    return results[1];
  }

  std::vector<std::string> containers_;
};

TEST_F(Exec, OutputAndExitStatus) {
  Result r = expectSameExec({}, {"sh", "-c", "echo from-exec; exit 5"}, "", 5);
  EXPECT_EQ(r.status, 5);
  EXPECT_EQ(r.out, "from-exec\n");
}

TEST_F(Exec, EnvWorkdirUser) {
  Result r = expectSameExec({"-e", "A=1", "-w", "/tmp", "-u", "1000:1000"},
                            {"sh", "-c", "echo $A $(pwd) $(id -u)"});
  EXPECT_EQ(r.out, "1 /tmp 1000\n");
}

TEST_F(Exec, Stdin) {
  Result r = expectSameExec({"-i"}, {"sh", "-c", "cat; echo end"}, "abc\n");
  EXPECT_EQ(r.out, "abc\nend\n");
}

TEST_F(Exec, TtyAllocatesAPty) {
  Result r = expectSameExec({"-t"}, {"tty"});
  EXPECT_EQ(trim(r.out), "/dev/pts/0");
}

TEST_F(Exec, MissingCommand) {
  Result r = expectSameExec({}, {"/does/not/exist"}, "", 126);
  EXPECT_EQ(r.status, 126);
}

TEST_F(Exec, SeesTheContainersProcesses) {
  Result r = expectSameExec({}, {"sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"});
  EXPECT_EQ(r.out, "sleep 600 ");
}

TEST_F(Exec, SeveralAtOnce) {
  const std::string& c = containers_[1];
  std::vector<Result> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      results[i] = docker({"exec", c, "sh", "-c",
                           "sleep 1; echo " + std::to_string(i) + "; exit " + std::to_string(i)});
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(results[i].status, i);
    EXPECT_EQ(results[i].out, std::to_string(i) + "\n");
  }
}

}  // namespace
}  // namespace runvirt::dockertest

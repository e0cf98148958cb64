// Terminals as a person uses them: `docker run -it`, `docker attach`, window sizes. The docker
// client runs inside `script`, which gives it a real pty.
#include "docker/harness.hpp"

namespace runvirt::dockertest {
namespace {

class Terminal : public DockerTest {
 protected:
  Result inPty(const std::string& shellCommand, const std::string& input = "") {
    return command({"script", "-qec", shellCommand, "/dev/null"}, input, 120);
  }
};

TEST_F(Terminal, WindowSizeReachesTheContainer) {
  for (const auto& runtime : kRuntimes) {
    Result r = inPty("stty rows 40 cols 100; docker run --rm -t --runtime=" + runtime + " --name " +
                     name(runtime) + " busybox sh -c 'sleep 1; stty size'");
    EXPECT_NE(r.out.find("40 100"), std::string::npos) << runtime << ": " << r.out;
  }
}

TEST_F(Terminal, InteractiveShell) {
  for (const auto& runtime : kRuntimes) {
    Result r = inPty(
        "docker run --rm -it --runtime=" + runtime + " --name " + name(runtime) + " busybox sh",
        "echo hello-$((40+2))\nexit 3\n");
    EXPECT_NE(r.out.find("hello-42"), std::string::npos) << runtime << ": " << r.out;
    EXPECT_EQ(r.status, 3) << runtime;
  }
}

TEST_F(Terminal, Attach) {
  for (const auto& runtime : kRuntimes) {
    std::string n = name(runtime);
    ASSERT_EQ(docker({"run", "-dit", "--runtime=" + runtime, "--name", n, "busybox", "sh"}).status,
              0);
    Result r = inPty("docker attach " + n, "echo attached-$((1+1))\nexit\n");
    EXPECT_NE(r.out.find("attached-2"), std::string::npos) << runtime << ": " << r.out;
  }
}

}  // namespace
}  // namespace runvirt::dockertest

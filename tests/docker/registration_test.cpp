// runvirt is a Docker runtime under both names, and it really runs containers in a VM.
#include "docker/harness.hpp"

namespace runvirt::dockertest {
namespace {

class Registration : public DockerTest {};

TEST_F(Registration, RunvirtAndKataRunTheGuestKernel) {
  Result host = command({"uname", "-r"});
  Result runc =
      docker({"run", "--rm", "--runtime=runc", "--name", name("runc"), "busybox", "uname", "-r"});
  EXPECT_EQ(runc.out, host.out);
  for (const char* runtime : {"runvirt", "kata"}) {
    Result r = docker({"run", "--rm", std::string("--runtime=") + runtime, "--name", name(runtime),
                       "busybox", "uname", "-r"});
    EXPECT_EQ(r.status, 0) << runtime << ": " << r.err;
    EXPECT_NE(r.out, host.out) << runtime << " ran on the host kernel";
    EXPECT_NE(r.out.find("-runvirt"), std::string::npos) << r.out;  // runvirt's guest kernel
  }
}

}  // namespace
}  // namespace runvirt::dockertest

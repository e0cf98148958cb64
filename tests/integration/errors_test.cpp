// Bad input: one clear message on stderr and as a JSON line in --log, non-zero exit, and a
// failed create leaves nothing behind.
#include <fstream>

#include "integration/harness.hpp"

namespace runvirt::test {
namespace {

class Errors : public RuntimeTest {
 protected:
  // Runs a create that must fail, checks the message and that no trace of it remains.
  void expectCreateFails(const std::string& bundle, const std::string& message) {
    Result r = runvirt({"create", "--bundle", bundle, "bad"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find(message), std::string::npos) << "stderr: " << r.err;
    nlohmann::json line = lastLogLine();
    EXPECT_EQ(line.value("level", ""), "error");
    EXPECT_NE(line.value("msg", "").find(message), std::string::npos) << line.dump();
    EXPECT_TRUE(line.contains("time"));
    EXPECT_FALSE(exists(root_ + "/bad")) << "state left behind";
    Result domains = runCommand({"virsh", "-c", "qemu:///system", "list", "--all", "--title"});
    EXPECT_EQ(domains.out.find("runvirt container bad"), std::string::npos) << domains.out;
  }
};

TEST_F(Errors, MalformedConfigJson) {
  std::string bundle = makeBundle({"true"});
  std::ofstream(bundle + "/config.json") << "{\"ociVersion\": ";
  expectCreateFails(bundle, "config.json");
}

TEST_F(Errors, InvalidConfigNamesEveryProblem) {
  std::string bundle = makeBundle({"true"}, [](nlohmann::json& c) {
    c["process"]["args"] = nlohmann::json::array();
    c["process"]["cwd"] = "relative";
  });
  expectCreateFails(
      bundle,
      "process.args: args must not be empty; process.cwd: cwd property must be an absolute path");
}

TEST_F(Errors, MissingRootfs) {
  std::string bundle = makeBundle({"true"});
  removeTree(bundle + "/rootfs");
  expectCreateFails(bundle,
                    "invalid rootfs: stat " + bundle + "/rootfs: No such file or directory");
}

TEST_F(Errors, UnknownUser) {
  std::string bundle = makeBundle(
      {"true"}, [](nlohmann::json& c) { c["process"]["user"]["username"] = "nosuchuser"; });
  expectCreateFails(bundle, "unable to find user nosuchuser: no matching entries in passwd file");
}

TEST_F(Errors, MissingExecutable) {
  std::string bundle = makeBundle({"/no/such/program"});
  expectCreateFails(bundle,
                    "exec: \"/no/such/program\": stat /no/such/program: no such file or directory");
}

TEST_F(Errors, ExecutableNotInPath) {
  std::string bundle = makeBundle({"nosuchprogram"});
  expectCreateFails(bundle, "exec: \"nosuchprogram\": executable file not found in $PATH");
}

TEST_F(Errors, UnknownContainer) {
  for (const char* verb : {"state", "start", "delete"}) {
    Result r = runvirt({verb, "nope"});
    EXPECT_NE(r.status, 0) << verb;
    EXPECT_NE(r.err.find("container does not exist"), std::string::npos) << verb << ": " << r.err;
  }
  Result kill = runvirt({"kill", "nope", "KILL"});
  EXPECT_NE(kill.err.find("container does not exist"), std::string::npos) << kill.err;
}

TEST_F(Errors, InvalidIdAndUnknownContainerBeforeSignal) {
  std::string bundle = makeBundle({"true"});
  Result id = runvirt({"create", "--bundle", bundle, "bad/id"});
  EXPECT_NE(id.status, 0);
  EXPECT_NE(id.err.find("invalid container ID format"), std::string::npos) << id.err;
  // runc reports the unknown container before the bad signal.
  Result signal = runvirt({"kill", "whatever", "NOTASIGNAL"});
  EXPECT_NE(signal.status, 0);
  EXPECT_NE(signal.err.find("container does not exist"), std::string::npos) << signal.err;
}

TEST_F(Errors, TextLogFormatWithoutLogFileGoesToStderr) {
  Result r = runCommand({runtimeBinary(), "--root", root_, "state", "nope"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("level=error msg=\"container does not exist\""), std::string::npos) << r.err;
}

TEST_F(Errors, RuncGlobalFlagsAreAccepted) {
  Result r = runCommand({runtimeBinary(), "--root", root_, "--systemd-cgroup", "--rootless=false",
                         "--log-format", "json", "--debug", "list", "-q"});
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
}  // namespace runvirt::test

// oci/src/validate.cpp: semantic checks on a parsed spec (JSON-level cases: spec_json_test.cpp).
#include "runvirt/oci/validate.hpp"

#include <gtest/gtest.h>

#include "runvirt/oci/spec_json.hpp"

namespace runvirt::oci {
namespace {

TEST(Validate, DefaultSpecHasNoProblems) {
  EXPECT_EQ(describeProblems(validate(defaultSpec())), "");
}

TEST(Validate, ProcessPathPrefixesEveryProblem) {
  Process p;
  p.cwd = "relative";
  p.env = {"NOVALUE"};
  std::vector<Problem> problems;
  validateProcess(p, "exec", problems);
  EXPECT_EQ(describeProblems(problems),
            "exec.args: args must not be empty; exec.cwd: cwd property must be an absolute path; "
            "exec.env[0]: must have the form NAME=value");
}

TEST(Validate, EveryCapabilitySetIsChecked) {
  Spec spec = defaultSpec();
  spec.process->capabilities = Capabilities{{}, {}, {"CAP_BOGUS"}, {}, {"CAP_OTHER"}};
  EXPECT_EQ(describeProblems(validate(spec)),
            "process.capabilities.inheritable[0]: unknown capability \"CAP_BOGUS\"; "
            "process.capabilities.ambient[0]: unknown capability \"CAP_OTHER\"");
}

TEST(Validate, NetworkNamespacePathMayBeJoined) {
  Spec spec = defaultSpec();
  spec.linux->namespaces[1] = {"network", "/var/run/netns/cni-1234"};
  EXPECT_TRUE(validate(spec).empty());
}

TEST(Validate, DevicesGoUnderDevSpelledPlainly) {
  Spec spec = defaultSpec();
  spec.linux->devices = {{"/dev/fuse", "c", 10, 229, 0666, 0, 0},
                         {"/dev/net/tun", "c", 10, 200, {}, {}, {}},
                         {"/dev/xvda", "b", 7, 0, {}, {}, {}},
                         {"/dev/fifo", "p", 0, 0, {}, {}, {}}};
  EXPECT_EQ(describeProblems(validate(spec)), "");
  for (std::string bad : {"/tmp/x", "dev/null", "/dev/", "/dev", "/dev/../etc/passwd", "/dev//x",
                          "/dev/./x", "/dev/x/..", "/devices/x"}) {
    spec.linux->devices = {{bad, "c", 1, 3, {}, {}, {}}};
    EXPECT_EQ(describeProblems(validate(spec)),
              "linux.devices[0].path: device `" + bad + "` must be a path under /dev")
        << bad;
  }
  spec.linux->devices = {{"/dev/x", "s", 1, 3, 010666, {}, {}}};
  EXPECT_EQ(describeProblems(validate(spec)),
            "linux.devices[0].type: unknown device type `s` (c, u, b or p); "
            "linux.devices[0].fileMode: must hold permission bits only");
  spec.linux->devices = {{"/dev/x", "c", -1, 3, {}, {}, {}}};
  EXPECT_EQ(describeProblems(validate(spec)),
            "linux.devices[0]: device `/dev/x` has invalid numbers -1:3");
}

TEST(Validate, HostnameNeedsUtsOnlyWhenLinuxIsPresent) {
  Spec spec = defaultSpec();
  spec.linux->namespaces = {{"pid", ""}, {"mount", ""}};
  EXPECT_EQ(validate(spec).size(), 1u);
  spec.linux.reset();
  EXPECT_TRUE(validate(spec).empty());
}

TEST(Validate, MemoryLimitOfSixMiBIsAllowed) {
  Spec spec = defaultSpec();
  spec.linux->resources = Resources{MemoryResources{6 << 20, {}, {}}, {}, {}, {}};
  EXPECT_TRUE(validate(spec).empty());
  spec.linux->resources->memory->limit = (6 << 20) - 1;
  EXPECT_EQ(describeProblems(validate(spec)),
            "linux.resources.memory.limit: minimum memory limit allowed is 6MB");
}

TEST(Validate, MissingRootPathIsAProblem) {
  Spec spec = defaultSpec();
  spec.root.path.clear();
  EXPECT_EQ(describeProblems(validate(spec)), "root.path: is required");
}

}  // namespace
}  // namespace runvirt::oci

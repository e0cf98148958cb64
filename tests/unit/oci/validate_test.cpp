// oci/src/validate.cpp: semantic checks on a parsed spec (JSON-level cases: spec_json_test.cpp).
#include "runvirt/oci/validate.hpp"

#include <gtest/gtest.h>

#include "runvirt/oci/spec_json.hpp"

namespace runvirt::oci {
namespace {

TEST(Validate, DefaultSpecHasNoProblems) { EXPECT_EQ(describeProblems(validate(defaultSpec())), ""); }

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

TEST(Validate, HostnameNeedsUtsOnlyWhenLinuxIsPresent) {
  Spec spec = defaultSpec();
  spec.linux->namespaces = {{"pid", ""}, {"mount", ""}};
  EXPECT_EQ(validate(spec).size(), 1u);
  spec.linux.reset();
  EXPECT_TRUE(validate(spec).empty());
}

TEST(Validate, MemoryLimitOfSixMiBIsAllowed) {
  Spec spec = defaultSpec();
  spec.linux->resources = Resources{MemoryResources{6 << 20, {}, {}}, {}, {}};
  EXPECT_TRUE(validate(spec).empty());
  spec.linux->resources->memory->limit = (6 << 20) - 1;
  EXPECT_EQ(describeProblems(validate(spec)), "linux.resources.memory.limit: minimum memory limit allowed is 6MB");
}

TEST(Validate, MissingRootPathIsAProblem) {
  Spec spec = defaultSpec();
  spec.root.path.clear();
  EXPECT_EQ(describeProblems(validate(spec)), "root.path: is required");
}

}  // namespace
}  // namespace runvirt::oci

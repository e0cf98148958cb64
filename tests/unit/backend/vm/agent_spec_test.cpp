// libvirt-backend/vm/agent_spec.cpp: oci::Spec -> the agent's ContainerSpec (names -> numbers).
#include "vm/agent_spec.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "storage/share.hpp"
#include "runvirt/oci/spec_json.hpp"

namespace runvirt::backend {
namespace {

oci::Spec sampleSpec() {
  oci::Spec spec = oci::defaultSpec();
  oci::Process& p = *spec.process;
  p.capabilities = oci::Capabilities{{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
                                     {"CAP_KILL"},
                                     {},
                                     {"CAP_CHOWN", "CAP_KILL"},
                                     {"CAP_SYS_ADMIN"}};
  p.rlimits = {{"RLIMIT_NOFILE", 4096, 1024}, {"RLIMIT_NPROC", 200, 100}};
  p.consoleSize = oci::ConsoleSize{40, 120};
  p.user = {1000, 100, 22u, {10, 20}, "app"};
  p.cwd = "/srv";
  p.oomScoreAdj = 100;
  spec.domainname = "example.org";
  spec.linux->namespaces = {{"mount", ""}, {"network", ""}, {"cgroup", ""},
                            {"ipc", ""},   {"uts", ""},     {"pid", ""}};
  spec.linux->sysctl = {{"net.ipv4.ip_forward", "1"}};
  spec.mounts.push_back({"/data", "bind", "/srv/data", {"rbind", "ro"}});
  return spec;
}

TEST(AgentSpec, CapabilitiesBecomeMasks) {
  agent::ProcessSpec p = toAgentProcess(*sampleSpec().process, "");
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, (1u << 0) | (1u << 5) | (1u << 10));
  EXPECT_EQ(p.capabilities->effective, 1u << 5);
  EXPECT_EQ(p.capabilities->inheritable, 0u);
  EXPECT_EQ(p.capabilities->permitted, (1u << 0) | (1u << 5));
  EXPECT_EQ(p.capabilities->ambient, 1u << 21);
}

TEST(AgentSpec, HighCapabilityNumbersUseSixtyFourBits) {
  oci::Process p = *sampleSpec().process;
  p.capabilities = oci::Capabilities{{"CAP_CHECKPOINT_RESTORE"}, {}, {}, {}, {}};
  EXPECT_EQ(toAgentProcess(p, "").capabilities->bounding, std::uint64_t(1) << 40);
}

TEST(AgentSpec, NoCapabilitiesMeansKeepAll) {
  oci::Process p = *sampleSpec().process;
  p.capabilities.reset();
  EXPECT_FALSE(toAgentProcess(p, "").capabilities);
}

TEST(AgentSpec, RlimitsBecomeNumbers) {
  agent::ProcessSpec p = toAgentProcess(*sampleSpec().process, "");
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_EQ(p.rlimits[0].hard, 4096u);
  EXPECT_EQ(p.rlimits[1].resource, RLIMIT_NPROC);
}

TEST(AgentSpec, ProcessFieldsAreCopied) {
  agent::ProcessSpec p = toAgentProcess(*sampleSpec().process, std::string("\x20\x00\x00\x00", 4));
  EXPECT_EQ(p.rows, 40);
  EXPECT_EQ(p.cols, 120);
  EXPECT_EQ(p.uid, 1000u);
  EXPECT_EQ(p.gid, 100u);
  EXPECT_EQ(p.umask, 22u);
  EXPECT_EQ(p.additionalGids, (std::vector<std::uint32_t>{10, 20}));
  EXPECT_EQ(p.username, "app");
  EXPECT_EQ(p.cwd, "/srv");
  EXPECT_TRUE(p.terminal);
  EXPECT_TRUE(p.noNewPrivileges);
  EXPECT_EQ(p.oomScoreAdj, 100);
  EXPECT_EQ(p.seccompFilter, std::string("\x20\x00\x00\x00", 4));
}

TEST(AgentSpec, NoConsoleSizeLeavesTheDefault) {
  oci::Process p = *sampleSpec().process;
  p.consoleSize.reset();
  agent::ProcessSpec out = toAgentProcess(p, "");
  EXPECT_EQ(out.rows, 0);
  EXPECT_EQ(out.cols, 0);
}

TEST(AgentSpec, NamespacesTheAgentCreates) {
  oci::Spec spec = sampleSpec();
  agent::ContainerSpec c = toAgentContainer(spec, "web", guestMounts(spec), "");
  EXPECT_EQ(c.namespaces, (std::vector<std::string>{"pid", "uts", "ipc", "cgroup"}));
  spec.linux->namespaces = {{"mount", ""}, {"network", ""}};
  EXPECT_TRUE(toAgentContainer(spec, "web", {}, "").namespaces.empty());
}

TEST(AgentSpec, ContainerFields) {
  oci::Spec spec = sampleSpec();
  agent::ContainerSpec c = toAgentContainer(spec, "web", guestMounts(spec), "");
  EXPECT_EQ(c.id, "web");
  EXPECT_EQ(c.rootfs, "rootfs");
  EXPECT_TRUE(c.readonlyRoot);
  EXPECT_EQ(c.hostname, "runvirt");
  EXPECT_EQ(c.domainname, "example.org");
  EXPECT_EQ(c.maskedPaths, spec.linux->maskedPaths);
  EXPECT_EQ(c.readonlyPaths, spec.linux->readonlyPaths);
  EXPECT_EQ(c.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(c.process.args, std::vector<std::string>{"sh"});
}

TEST(AgentSpec, BindsAreRewrittenToTheShare) {
  oci::Spec spec = sampleSpec();
  agent::ContainerSpec c = toAgentContainer(spec, "web", guestMounts(spec), "");
  ASSERT_EQ(c.mounts.size(), spec.mounts.size());
  const agent::Mount& bind = c.mounts.back();
  EXPECT_EQ(bind.destination, "/data");
  EXPECT_EQ(bind.type, "bind");
  EXPECT_EQ(bind.source, "volumes/mounts/" + std::to_string(spec.mounts.size() - 1));
  EXPECT_EQ(bind.options, (std::vector<std::string>{"rbind", "ro"}));
  EXPECT_EQ(c.mounts[0].source, "proc");
}

}  // namespace
}  // namespace runvirt::backend

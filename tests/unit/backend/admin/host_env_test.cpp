// libvirt-backend/admin/host_env.cpp: `runvirt env` as TOML and JSON from one list of entries.
#include "admin/host_env.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;

EnvReport sample() {
  EnvReport r;
  r.version = "0.1.0";
  r.commit = "abc123";
  r.path = "/usr/bin/runvirt";
  r.configFile = "/etc/runvirt/config.toml";
  r.agentProtocol = 1;
  r.config.defaultVcpus = 2;
  r.config.logLevel = "debug";
  r.hostKernel = "6.18.44";
  r.accelerator = "tcg";
  r.acceleratorReason = "tcg: the CPU flags show no vmx/svm";
  r.libvirt = "9.0.0";
  r.qemu = "7.2.22";
  r.virtiofsd = "7.2.22";
  r.docker = "unavailable: dockerd is not installed";
  r.guestKernel = "6.1.0-56-cloud-amd64";
  r.guestInitrd = "6.1.0-56-cloud-amd64";
  return r;
}

TEST(HostEnv, TomlTablesInOrder) {
  std::string text = envToToml(sample());
  auto at = [&](const char* table) { return text.find(std::string("[") + table + "]\n"); };
  EXPECT_EQ(at("runvirt"), 0u);
  EXPECT_LT(at("runvirt"), at("hypervisor"));
  EXPECT_LT(at("hypervisor"), at("runtime"));
  EXPECT_LT(at("runtime"), at("host"));
  EXPECT_LT(at("host"), at("versions"));
  EXPECT_TRUE(contains(text, "accelerator_reason = \"tcg: the CPU flags show no vmx/svm\"\n"));
  EXPECT_TRUE(contains(text, "agent_protocol = 1\n"));
}

TEST(HostEnv, ConfigTablesAreAValidConfigFile) {
  EnvReport r = sample();
  toml::table all = toml::parse(envToToml(r));
  toml::table configOnly;
  configOnly.insert("hypervisor", *all["hypervisor"].as_table());
  configOnly.insert("runtime", *all["runtime"].as_table());
  std::ostringstream text;
  text << configOnly;
  RuntimeConfig parsed = parseRuntimeConfig(text.str(), "env.toml");
  EXPECT_EQ(formatRuntimeConfig(parsed), formatRuntimeConfig(r.config));
}

TEST(HostEnv, JsonHasTheSameValues) {
  auto j = envToJson(sample());
  EXPECT_EQ(j["runvirt"]["version"], "0.1.0");
  EXPECT_EQ(j["hypervisor"]["default_vcpus"], 2);
  EXPECT_EQ(j["runtime"]["agent_timeout_seconds"], 60.0);
  EXPECT_EQ(j["runtime"]["log_level"], "debug");
  EXPECT_EQ(j["host"]["accelerator"], "tcg");
  EXPECT_EQ(j["versions"]["docker"], "unavailable: dockerd is not installed");
  std::vector<std::string> tables;
  for (const auto& [key, value] : j.items()) tables.push_back(key);
  EXPECT_EQ(tables,
            (std::vector<std::string>{"runvirt", "hypervisor", "runtime", "host", "versions"}));
}

}  // namespace
}  // namespace runvirt::backend

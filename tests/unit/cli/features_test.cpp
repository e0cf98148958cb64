// runtime-cli/commands/features.cpp: `runvirt features`, whose lists come from the tables that
// parse mount options (oci/) and compile seccomp profiles (vm/).
#include <gtest/gtest.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands/commands.hpp"
#include "runvirt/oci/linux_names.hpp"

namespace runvirt::cli {
namespace {

nlohmann::json featuresOutput() {
  std::ostringstream out;
  std::streambuf* saved = std::cout.rdbuf(out.rdbuf());
  int code = featuresCommand(GlobalOptions{}, {});
  std::cout.rdbuf(saved);
  EXPECT_EQ(code, 0);
  return nlohmann::json::parse(out.str());
}

using Names = std::vector<std::string>;

TEST(Features, MountOptions) {
  EXPECT_EQ(featuresOutput().at("mountOptions").get<Names>(),
            (Names{"async",         "atime",      "bind",       "defaults",  "dev",
                   "diratime",      "dirsync",    "exec",       "iversion",  "lazytime",
                   "loud",          "mand",       "noatime",    "nodev",     "nodiratime",
                   "noexec",        "noiversion", "nolazytime", "nomand",    "norelatime",
                   "nostrictatime", "nosuid",     "private",    "rbind",     "relatime",
                   "remount",       "ro",         "rprivate",   "rshared",   "rslave",
                   "runbindable",   "rw",         "shared",     "silent",    "slave",
                   "strictatime",   "suid",       "sync",       "unbindable"}));
}

TEST(Features, Seccomp) {
  nlohmann::json seccomp = featuresOutput().at("linux").at("seccomp");
  EXPECT_TRUE(seccomp.at("enabled").get<bool>());
  EXPECT_EQ(seccomp.at("actions").get<Names>(),
            (Names{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                   "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}));
  EXPECT_EQ(seccomp.at("operators").get<Names>(),
            (Names{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                   "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}));
  EXPECT_EQ(seccomp.at("archs").get<Names>(),
            (Names{"SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"}));
}

TEST(Features, TheRest) {
  nlohmann::json features = featuresOutput();
  EXPECT_EQ(features.at("ociVersionMin"), "1.0.0");
  EXPECT_EQ(features.at("ociVersionMax"), "1.0.2-dev");
  EXPECT_EQ(features.at("hooks").get<Names>(),
            (Names{"prestart", "createRuntime", "poststart", "poststop"}));
  EXPECT_EQ(features.at("linux").at("namespaces").get<Names>(),
            (Names{"cgroup", "ipc", "mount", "network", "pid", "uts"}));
  EXPECT_EQ(features.at("linux").at("capabilities").size(), oci::capabilityNames().size());
}

}  // namespace
}  // namespace runvirt::cli

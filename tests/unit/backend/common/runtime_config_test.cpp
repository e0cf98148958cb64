// libvirt-backend/common/runtime_config.cpp: config.toml, errors with file:line and key,
// precedence.
#include "common/runtime_config.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>

#include "common/log.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;

TEST(RuntimeConfig, EmptyFileGivesDefaults) {
  RuntimeConfig c = parseRuntimeConfig("", "empty.toml");
  RuntimeConfig d;
  EXPECT_EQ(c.source, "empty.toml");
  EXPECT_EQ(c.kernel, d.kernel);
  EXPECT_EQ(c.accelerator, AcceleratorChoice::Auto);
  EXPECT_EQ(c.defaultVcpus, 1u);
  EXPECT_EQ(c.defaultMemoryMiB, 512u);
  EXPECT_EQ(c.memoryOverheadMiB, 128u);
  EXPECT_EQ(c.tcgTbCacheMiB, 16u);
  EXPECT_EQ(c.libvirtUri, "qemu:///system");
  EXPECT_EQ(c.vmDir, "/run/runvirt-vms");
  EXPECT_EQ(c.agentTimeoutSeconds, 60);
}

TEST(RuntimeConfig, EveryKeyIsParsed) {
  RuntimeConfig c = parseRuntimeConfig(R"(
[hypervisor]
kernel = "/k/vmlinux"
initrd = "/k/initrd.img"
qemu = "/opt/qemu/bin/qemu-system-x86_64"
virtiofsd = "/usr/libexec/virtiofsd"
accelerator = "tcg"
default_vcpus = 2
default_memory_mib = 1024
memory_overhead_mib = 64
shared_fs = "virtiofs"
kernel_params = "quiet=0 foo=bar"
tcg_tb_cache_mib = 32

[runtime]
libvirt_uri = "qemu:///session"
vm_dir = "/tmp/vms"
qemu_user = "qemu"
agent_timeout_seconds = 12.5
log_level = "debug"
)",
                                       "full.toml");
  EXPECT_EQ(c.kernel, "/k/vmlinux");
  EXPECT_EQ(c.initrd, "/k/initrd.img");
  EXPECT_EQ(c.qemu, "/opt/qemu/bin/qemu-system-x86_64");
  EXPECT_EQ(c.virtiofsd, "/usr/libexec/virtiofsd");
  EXPECT_EQ(c.accelerator, AcceleratorChoice::Tcg);
  EXPECT_EQ(c.defaultVcpus, 2u);
  EXPECT_EQ(c.defaultMemoryMiB, 1024u);
  EXPECT_EQ(c.memoryOverheadMiB, 64u);
  EXPECT_EQ(c.sharedFs, "virtiofs");
  EXPECT_EQ(c.kernelParams, "quiet=0 foo=bar");
  EXPECT_EQ(c.tcgTbCacheMiB, 32u);
  EXPECT_EQ(c.libvirtUri, "qemu:///session");
  EXPECT_EQ(c.vmDir, "/tmp/vms");
  EXPECT_EQ(c.qemuUser, "qemu");
  EXPECT_EQ(c.agentTimeoutSeconds, 12.5);
  EXPECT_EQ(c.logLevel, "debug");
}

TEST(RuntimeConfig, AcceleratorChoices) {
  EXPECT_EQ(parseRuntimeConfig("[hypervisor]\naccelerator = \"kvm\"\n", "c").accelerator,
            AcceleratorChoice::Kvm);
  EXPECT_EQ(parseRuntimeConfig("[hypervisor]\naccelerator = \"auto\"\n", "c").accelerator,
            AcceleratorChoice::Auto);
  EXPECT_EQ(toString(AcceleratorChoice::Tcg), "tcg");
}

TEST(RuntimeConfig, IntegerTimeoutIsAccepted) {
  EXPECT_EQ(parseRuntimeConfig("[runtime]\nagent_timeout_seconds = 30\n", "c").agentTimeoutSeconds,
            30);
}

TEST(RuntimeConfig, UnknownKeyNamesFileLineAndKey) {
  EXPECT_EQ(errorOf([] {
              parseRuntimeConfig("[hypervisor]\nkernel = \"/k\"\nmemory = 512\n", "/etc/x.toml");
            }),
            "/etc/x.toml:3: hypervisor.memory is not a known key");
}

TEST(RuntimeConfig, BadTypesNameFileLineAndKey) {
  EXPECT_EQ(
      errorOf([] { parseRuntimeConfig("\n[hypervisor]\ndefault_vcpus = \"two\"\n", "c.toml"); }),
      "c.toml:3: hypervisor.default_vcpus must be an integer from 1 to 256");
  EXPECT_EQ(errorOf([] { parseRuntimeConfig("[runtime]\nvm_dir = 5\n", "c.toml"); }),
            "c.toml:2: runtime.vm_dir must be a string");
  EXPECT_EQ(errorOf([] {
              parseRuntimeConfig("[runtime]\nagent_timeout_seconds = \"soon\"\n", "c.toml");
            }),
            "c.toml:2: runtime.agent_timeout_seconds must be a positive number");
}

TEST(RuntimeConfig, OutOfRangeValues) {
  EXPECT_TRUE(
      contains(errorOf([] { parseRuntimeConfig("[hypervisor]\ndefault_vcpus = 0\n", "c"); }),
               "hypervisor.default_vcpus must be an integer from 1 to 256"));
  EXPECT_TRUE(
      contains(errorOf([] { parseRuntimeConfig("[hypervisor]\ndefault_memory_mib = 32\n", "c"); }),
               "hypervisor.default_memory_mib must be an integer from 64"));
  EXPECT_TRUE(
      contains(errorOf([] { parseRuntimeConfig("[runtime]\nagent_timeout_seconds = 0\n", "c"); }),
               "runtime.agent_timeout_seconds must be a positive number"));
}

TEST(RuntimeConfig, BadAccelerator) {
  EXPECT_EQ(errorOf([] { parseRuntimeConfig("[hypervisor]\naccelerator = \"hvf\"\n", "c.toml"); }),
            "c.toml:2: hypervisor.accelerator must be one of auto, kvm, tcg");
}

TEST(RuntimeConfig, NinePIsRefused) {
  EXPECT_TRUE(
      contains(errorOf([] { parseRuntimeConfig("[hypervisor]\nshared_fs = \"9p\"\n", "c"); }),
               "hypervisor.shared_fs must be \"virtiofs\""));
}

TEST(RuntimeConfig, UnknownSectionAndNonTableSection) {
  EXPECT_EQ(errorOf([] { parseRuntimeConfig("[network]\nbridge = \"br0\"\n", "c.toml"); }),
            "c.toml:1: unknown section `network`");
  EXPECT_TRUE(contains(errorOf([] { parseRuntimeConfig("runtime = 1\n", "c.toml"); }),
                       "runtime must be a table"));
}

TEST(RuntimeConfig, TomlSyntaxErrorNamesTheLine) {
  EXPECT_TRUE(contains(errorOf([] { parseRuntimeConfig("[runtime]\nvm_dir = \n", "c.toml"); }),
                       "c.toml:2: "));
}

// Sets or unsets RUNVIRT_CONFIG for one test and restores it afterwards.
class ConfigEnv {
 public:
  explicit ConfigEnv(const char* value) {
    if (const char* old = std::getenv("RUNVIRT_CONFIG")) old_ = old;
    if (value) {
      setenv("RUNVIRT_CONFIG", value, 1);
    } else {
      unsetenv("RUNVIRT_CONFIG");
    }
  }
  ~ConfigEnv() {
    if (old_) {
      setenv("RUNVIRT_CONFIG", old_->c_str(), 1);
    } else {
      unsetenv("RUNVIRT_CONFIG");
    }
  }

 private:
  std::optional<std::string> old_;
};

class RuntimeConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    test::writeFile(flagFile(), "[runtime]\nvm_dir = \"/from/flag\"\n");
    test::writeFile(envFile(), "[runtime]\nvm_dir = \"/from/env\"\n");
  }
  std::string flagFile() const { return dir / "flag.toml"; }
  std::string envFile() const { return dir / "env.toml"; }
  test::TempDir dir;
};

TEST_F(RuntimeConfigFiles, FlagWinsOverEnvironment) {
  ConfigEnv env(envFile().c_str());
  RuntimeConfig c = loadRuntimeConfig(flagFile());
  EXPECT_EQ(c.vmDir, "/from/flag");
  EXPECT_EQ(c.source, flagFile());
}

TEST_F(RuntimeConfigFiles, EnvironmentIsUsedWithoutFlag) {
  ConfigEnv env(envFile().c_str());
  RuntimeConfig c = loadRuntimeConfig("");
  EXPECT_EQ(c.vmDir, "/from/env");
  EXPECT_EQ(c.source, envFile());
}

TEST_F(RuntimeConfigFiles, MissingExplicitFileIsAnError) {
  ConfigEnv env(nullptr);
  EXPECT_EQ(errorOf([&] { loadRuntimeConfig(dir / "nope.toml"); }),
            "open config " + (dir / "nope.toml") + ": No such file or directory");
  ConfigEnv missing((dir / "nope.toml").c_str());
  EXPECT_TRUE(
      contains(errorOf([&] { loadRuntimeConfig(""); }), "open config " + (dir / "nope.toml")));
}

TEST_F(RuntimeConfigFiles, ErrorsNameTheFilePath) {
  test::writeFile(dir / "bad.toml", "[runtime]\nvm_dri = \"/x\"\n");
  EXPECT_EQ(errorOf([&] { loadRuntimeConfig(dir / "bad.toml"); }),
            dir / "bad.toml" + ":2: runtime.vm_dri is not a known key");
}

TEST_F(RuntimeConfigFiles, WithoutFlagOrEnvironmentTheDefaultFileOrBuiltInDefaults) {
  ConfigEnv env("");  // empty counts as unset
  RuntimeConfig c = loadRuntimeConfig("");
  if (test::exists(kDefaultConfigPath)) {
    EXPECT_EQ(c.source, kDefaultConfigPath);
  } else {
    EXPECT_EQ(c.source, "");
    EXPECT_EQ(c.vmDir, RuntimeConfig{}.vmDir);
  }
}

}  // namespace
}  // namespace runvirt::backend

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;

std::string shippedConfig() { return test::readFile(test::sourceDir() + "/packaging/config.toml"); }

// The shipped file with every commented-out setting ("#key = value") uncommented.
std::string uncommented(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.size() > 1 && line[0] == '#' && std::islower(static_cast<unsigned char>(line[1])))
      line.erase(0, 1);
    out += line + "\n";
  }
  return out;
}

TEST(ShippedConfig, ParsesToTheBuiltInDefaults) {
  RuntimeConfig shipped = parseRuntimeConfig(shippedConfig(), "config.toml");
  EXPECT_EQ(formatRuntimeConfig(shipped), formatRuntimeConfig(RuntimeConfig{}));
}

TEST(ShippedConfig, EveryDocumentedValueIsTheBuiltInDefault) {
  std::string text = uncommented(shippedConfig());
  RuntimeConfig documented = parseRuntimeConfig(text, "config.toml");
  EXPECT_EQ(formatRuntimeConfig(documented), formatRuntimeConfig(RuntimeConfig{}));
  // ... and every key is documented.
  for (const auto& entry : runtimeConfigEntries(RuntimeConfig{})) {
    EXPECT_TRUE(contains(text, "\n" + entry.key + " = "))
        << entry.key << " is not in packaging/config.toml";
  }
}

TEST(FormatRuntimeConfig, RoundTripsEveryValue) {
  RuntimeConfig c;
  c.kernel = "/k/vm\"linux";
  c.initrd = "/k/initrd \\ img";
  c.accelerator = AcceleratorChoice::Tcg;
  c.defaultVcpus = 4;
  c.defaultMemoryMiB = 2048;
  c.memoryOverheadMiB = 64;
  c.kernelParams = "a=b\tc";
  c.vmDir = "/tmp/vms";
  c.agentTimeoutSeconds = 12.5;
  c.logLevel = "debug";
  std::string text = formatRuntimeConfig(c);
  EXPECT_EQ(formatRuntimeConfig(parseRuntimeConfig(text, "x")), text);
  EXPECT_TRUE(contains(text, "agent_timeout_seconds = 12.5\n"));
  EXPECT_TRUE(contains(formatRuntimeConfig(RuntimeConfig{}), "agent_timeout_seconds = 60.0\n"));
  EXPECT_TRUE(contains(text, "kernel_params = \"a=b\\u0009c\"\n"));
}

TEST(FormatToml, TablesInOrderWithABlankLineBetween) {
  EXPECT_EQ(
      formatToml({{"a", "x", std::string("1")}, {"a", "y", std::int64_t{2}}, {"b", "z", 0.25}}),
      "[a]\nx = \"1\"\ny = 2\n\n[b]\nz = 0.25\n");
}

TEST(RuntimeConfig, LogLevels) {
  for (const char* level : {"debug", "info", "warning", "error"}) {
    EXPECT_EQ(
        parseRuntimeConfig(std::string("[runtime]\nlog_level = \"") + level + "\"\n", "c").logLevel,
        level);
  }
  EXPECT_EQ(errorOf([] { parseRuntimeConfig("[runtime]\n\nlog_level = \"verbose\"\n", "c.toml"); }),
            "c.toml:3: runtime.log_level must be one of debug, info, warning, error");
}

}  // namespace
}  // namespace runvirt::backend

namespace runvirt::backend {
namespace {

// Restores the logger after a test that reconfigures it.
class LogLevelTest : public ::testing::Test {
 protected:
  void TearDown() override {
    log::setMinimumLevel(log::Level::Info);
    log::configure(saved_);
  }
  log::Options saved_ = log::options();
  test::TempDir dir;
};

TEST_F(LogLevelTest, DebugActsAsTheDebugFlag) {
  log::configure({dir / "log", log::Format::Text, false});
  RuntimeConfig c;
  c.logLevel = "debug";
  EXPECT_TRUE(applyLogLevel(c));  // the caller passes --debug on
  EXPECT_TRUE(log::options().debug);
  EXPECT_FALSE(applyLogLevel(c));  // already on
  log::debug("a debug line");
  EXPECT_TRUE(test::contains(test::readFile(dir / "log"), "a debug line"));
}

TEST_F(LogLevelTest, WarningDropsInfoLines) {
  log::configure({dir / "log", log::Format::Text, false});
  RuntimeConfig c;
  c.logLevel = "warning";
  EXPECT_FALSE(applyLogLevel(c));
  log::info("an info line");
  log::warn("a warning line");
  std::string text = test::readFile(dir / "log");
  EXPECT_FALSE(test::contains(text, "an info line"));
  EXPECT_TRUE(test::contains(text, "a warning line"));
}

// Teardown recognises its own mounts by their canonical path (issue 11, item 5).
TEST(RuntimeConfigTest, VmDirIsCanonical) {
  for (const char* spelled : {"/run/runvirt-vms/", "/run/./runvirt-vms", "//run//runvirt-vms"}) {
    auto c = parseRuntimeConfig(std::string("[runtime]\nvm_dir = \"") + spelled + "\"\n", "c.toml");
    EXPECT_EQ(c.vmDir, "/run/runvirt-vms") << spelled;
  }
  std::error_code notALink;
  if (std::filesystem::read_symlink("/var/run", notALink) == "/run") {
    auto c = parseRuntimeConfig("[runtime]\nvm_dir = \"/var/run/./runvirt-vms\"\n", "c.toml");
    EXPECT_EQ(c.vmDir, "/run/runvirt-vms");
  }
  EXPECT_EQ(errorOf([] { parseRuntimeConfig("[runtime]\nvm_dir = \"run/vms\"\n", "c.toml"); }),
            "c.toml:2: runtime.vm_dir must be an absolute path");
}

}  // namespace
}  // namespace runvirt::backend

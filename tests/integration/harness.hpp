// Drives the real runvirt binary against the real libvirtd + QEMU. Nothing here fakes a part:
// a missing daemon, kernel or guest image makes the tests fail, never skip.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/command.hpp"

namespace runvirt::test {

using testsupport::Result;
using testsupport::runCommand;

// The runtime under test: $RUNVIRT_BIN or build/runvirt.
std::string runtimeBinary();
// The config.toml the runtime is given: $RUNVIRT_TEST_CONFIG or build/test-config.toml.
std::string runtimeConfig();

std::string makeTempDir(const std::string& prefix);
void removeTree(const std::string& path);
std::string readFile(const std::string& path);
bool exists(const std::string& path);

// Writes a busybox-static root filesystem into `dir`.
void makeBusyboxRootfs(const std::string& dir);

// A config.json like `runvirt spec` writes, with terminal off and `args` as the process.
nlohmann::json baseConfig(const std::vector<std::string>& args);

class RuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  void SetUp() override;
  void TearDown() override;

  // runvirt --root <temp root> --log <log> --log-format json ARGS...
  Result runvirt(const std::vector<std::string>& args, const std::string& input = "",
                 double timeout = 180);
  // A bundle whose process runs `args`; `edit` may change the config before it is written.
  std::string makeBundle(const std::vector<std::string>& args,
                         const std::function<void(nlohmann::json&)>& edit = {});
  // runvirt's own record of a container (<root>/<id>/state.json).
  nlohmann::json record(const std::string& id);
  // `runvirt state` parsed.
  nlohmann::json state(const std::string& id);
  // Asserts that nothing of the container is left: domain, VM dir, mounts, state, monitor.
  void expectNothingLeft(const nlohmann::json& record);
  // The last line of the --log file.
  nlohmann::json lastLogLine();

  std::string root_;
  std::string log_;
  std::string scratch_;
  std::vector<nlohmann::json> seen_;  // records of containers created, checked in TearDown
};

}  // namespace runvirt::test

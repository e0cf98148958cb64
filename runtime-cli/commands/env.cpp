// env: the effective configuration and component versions, as TOML or --json.
#include <iostream>
#include <sstream>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "admin/host_env.hpp"
#include "common/files.hpp"
#include "runvirt/error.hpp"

namespace runvirt::cli {

namespace {

// The value of "<prefix>VALUE" in versionText()'s lines.
std::string versionLine(const std::string& prefix) {
  std::istringstream lines(versionText());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return "";
}

}  // namespace

int envCommand(const GlobalOptions& global, const Args& args) {
  EnvOptions o = parseEnv(args);
  backend::RuntimeConfig config = backend::loadRuntimeConfig(global.config);
  backend::EnvReport report = backend::gatherEnv(
      config, versionLine("runvirt version "), versionLine("commit: "), backend::executablePath());
  if (o.json) {
    std::cout << backend::envToJson(report).dump(2) << "\n";
  } else {
    std::cout << "# runvirt env: the effective configuration ([hypervisor], [runtime]: a valid "
                 "config.toml)\n"
              << "# and the versions of what runvirt runs.\n"
              << backend::envToToml(report);
  }
  return 0;
}

}  // namespace runvirt::cli

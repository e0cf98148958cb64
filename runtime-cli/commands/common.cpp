#include "commands/commands.hpp"

#ifndef RUNVIRT_VERSION
#define RUNVIRT_VERSION "0.1.0-dev"
#endif
#ifndef RUNVIRT_COMMIT
#define RUNVIRT_COMMIT "unknown"
#endif

namespace runvirt::cli {

backend::Runtime makeRuntime(const GlobalOptions& global) {
  std::vector<std::string> inherited;
  if (!global.log.empty()) inherited.insert(inherited.end(), {"--log", global.log});
  inherited.insert(inherited.end(), {"--log-format", global.logFormat});
  if (global.debug) inherited.push_back("--debug");
  if (!global.config.empty()) inherited.insert(inherited.end(), {"--config", global.config});
  return backend::Runtime(global.root, global.config, inherited);
}

std::string versionText() {
  return std::string("runvirt version ") + RUNVIRT_VERSION + "\ncommit: " + RUNVIRT_COMMIT +
         "\nspec: 1.0.2-dev\n";
}

}  // namespace runvirt::cli

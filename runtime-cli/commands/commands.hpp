// One function per verb: parse its options, call the backend, print. Each returns the exit code.
#pragma once

#include <string>
#include <vector>

#include "options/options.hpp"
#include "lifecycle/runtime.hpp"

namespace runvirt::cli {

using Args = std::vector<std::string>;

int createCommand(const GlobalOptions& global, const Args& args);
int startCommand(const GlobalOptions& global, const Args& args);
int execCommand(const GlobalOptions& global, const Args& args);
int runCommand(const GlobalOptions& global, const Args& args);
int stateCommand(const GlobalOptions& global, const Args& args);
int listCommand(const GlobalOptions& global, const Args& args);
int killCommand(const GlobalOptions& global, const Args& args);
int deleteCommand(const GlobalOptions& global, const Args& args);
int psCommand(const GlobalOptions& global, const Args& args);
int pauseCommand(const GlobalOptions& global, const Args& args);
int updateCommand(const GlobalOptions& global, const Args& args);
int resumeCommand(const GlobalOptions& global, const Args& args);
int featuresCommand(const GlobalOptions& global, const Args& args);
int specCommand(const GlobalOptions& global, const Args& args);
int monitorCommand(const GlobalOptions& global, const Args& args);
int installDockerCommand(const GlobalOptions& global, const Args& args);
int uninstallDockerCommand(const GlobalOptions& global, const Args& args);
int checkCommand(const GlobalOptions& global, const Args& args);
int envCommand(const GlobalOptions& global, const Args& args);
int gcCommand(const GlobalOptions& global, const Args& args);

// The backend for --root, with the global flags a monitor must inherit.
backend::Runtime makeRuntime(const GlobalOptions& global);

// "runvirt version X\ncommit: Y\nspec: Z\n" (containerd parses these lines).
std::string versionText();

}  // namespace runvirt::cli

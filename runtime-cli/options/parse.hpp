// Command lines -> option structs, with runc's conventions: global flags before the verb,
// `--flag value`, `--flag=value` and Go's single-dash `-flag` all accepted.
#pragma once

#include <string>
#include <vector>

#include "options/options.hpp"

namespace runvirt::cli {

struct CommandLine {
  GlobalOptions global;
  std::string verb;               // empty: no verb given
  std::vector<std::string> args;  // everything after the verb
};

// Throws Error for unknown global flags or missing values.
CommandLine parseCommandLine(const std::vector<std::string>& argv);

CreateOptions parseCreate(const std::vector<std::string>& args);
RunOptions parseRun(const std::vector<std::string>& args);
ExecOptions parseExec(const std::vector<std::string>& args);
IdOptions parseIdOnly(const std::string& verb, const std::vector<std::string>& args);
KillOptions parseKill(const std::vector<std::string>& args);
DeleteOptions parseDelete(const std::vector<std::string>& args);
ListOptions parseList(const std::vector<std::string>& args);
PsOptions parsePs(const std::vector<std::string>& args);
SpecOptions parseSpecCommand(const std::vector<std::string>& args);
MonitorCommandOptions parseMonitor(const std::vector<std::string>& args);
DockerOptions parseDocker(const std::string& verb, const std::vector<std::string>& args);
CheckOptions parseCheck(const std::vector<std::string>& args);
EnvOptions parseEnv(const std::vector<std::string>& args);
GcOptions parseGc(const std::vector<std::string>& args);

}  // namespace runvirt::cli

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "monitor/monitor.hpp"

namespace runvirt::cli {

// Hidden verb: the per-container monitor `create` starts (never run by people).
int monitorCommand(const GlobalOptions& global, const Args& args) {
  MonitorCommandOptions options = parseMonitor(args);
  backend::runMonitor(
      {global.root, options.id, options.consoleSocket, global.config, options.syncFd});
}

}  // namespace runvirt::cli

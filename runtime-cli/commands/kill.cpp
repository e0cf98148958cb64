#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "runvirt/error.hpp"
#include "runvirt/oci/linux_names.hpp"

namespace runvirt::cli {

int killCommand(const GlobalOptions& global, const Args& args) {
  KillOptions options = parseKill(args);
  backend::Runtime runtime = makeRuntime(global);
  runtime.state(options.id);  // like runc: an unknown container is reported before a bad signal
  auto signal = oci::parseSignal(options.signal);
  if (!signal) throw Error("unknown signal \"" + options.signal + "\"", ErrorKind::InvalidArgument);
  runtime.kill(options.id, *signal, options.all);
  return 0;
}

int deleteCommand(const GlobalOptions& global, const Args& args) {
  DeleteOptions options = parseDelete(args);
  makeRuntime(global).remove(options.id, options.force);
  return 0;
}

// `docker update` of a running container's resources: the VM was sized at boot and runvirt
// cannot resize it yet. Fail clearly rather than pretend.
int updateCommand(const GlobalOptions& global, const Args& args) {
  std::string id;
  for (const auto& arg : args) {
    if (!arg.empty() && arg[0] != '-') id = arg;
  }
  if (id.empty())
    throw Error("\"update\" requires exactly 1 argument(s)", ErrorKind::InvalidArgument);
  makeRuntime(global).state(id);
  throw Error(
      "updating the resources of a running container is not supported: its VM was sized at start");
}

int pauseCommand(const GlobalOptions& global, const Args& args) {
  makeRuntime(global).pause(parseIdOnly("pause", args).id);
  return 0;
}

int resumeCommand(const GlobalOptions& global, const Args& args) {
  makeRuntime(global).resume(parseIdOnly("resume", args).id);
  return 0;
}

}  // namespace runvirt::cli

// runvirt: runc's command line, a VM per container underneath.
#include <cstring>
#include <iostream>
#include <map>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"

namespace {

using namespace runvirt;
using Handler = int (*)(const cli::GlobalOptions&, const cli::Args&);

const std::map<std::string, Handler>& commands() {
  static const std::map<std::string, Handler> table = {
      {"create", cli::createCommand},
      {"start", cli::startCommand},
      {"exec", cli::execCommand},
      {"run", cli::runCommand},
      {"state", cli::stateCommand},
      {"list", cli::listCommand},
      {"kill", cli::killCommand},
      {"delete", cli::deleteCommand},
      {"ps", cli::psCommand},
      {"pause", cli::pauseCommand},
      {"resume", cli::resumeCommand},
      {"update", cli::updateCommand},
      {"features", cli::featuresCommand},
      {"spec", cli::specCommand},
      {"monitor", cli::monitorCommand},
      {"install-docker", cli::installDockerCommand},
      {"uninstall-docker", cli::uninstallDockerCommand},
      {"check", cli::checkCommand},
      {"env", cli::envCommand},
      {"gc", cli::gcCommand},
  };
  return table;
}

constexpr const char* kUsage =
    "runvirt: an OCI runtime that runs every container in its own virtual machine\n\n"
    "usage: runvirt [global options] command [command options] [arguments...]\n\n"
    "commands: create start run exec state list kill delete ps pause resume features spec\n"
    "          install-docker [--name N] [--default] [--replace] [--path P] [--daemon-json F]\n"
    "          uninstall-docker [--path P] [--daemon-json F]\n"
    "          check [--probe-timeout S]      can this host run containers (libvirt, QEMU, KVM or "
    "TCG and why, ...)\n"
    "          env [--json]                   effective configuration and component versions\n"
    "          gc [--dry-run]                 reap VMs whose owner is gone (and what they hold on "
    "the host)\n\n"
    "global options:\n"
    "  --root DIR          state directory (default /run/runvirt)\n"
    "  --log FILE          log file (default stderr)\n"
    "  --log-format FMT    text or json\n"
    "  --debug             debug logging (phase timings)\n"
    "  --config FILE       runvirt config.toml (default $RUNVIRT_CONFIG, "
    "/etc/runvirt/config.toml)\n"
    "  --systemd-cgroup, --rootless VALUE, --criu PATH   accepted for runc compatibility, ignored\n"
    "  --version, --help\n";

void reportError(const std::string& message) {
  log::error(message);
  // runc prints the error on stderr too when the log goes to a file.
  if (log::toFile()) std::cerr << message << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  int failure = 1;
  try {
    cli::CommandLine line = cli::parseCommandLine(args);
    // runc exits 255 when `exec` cannot run the process (1 for every other verb).
    if (line.verb == "exec") failure = 255;
    log::configure({line.global.log,
                    line.global.logFormat == "json" ? log::Format::Json : log::Format::Text,
                    line.global.debug});
    if (line.global.version) {
      std::cout << cli::versionText();
      return 0;
    }
    if (line.global.help || line.verb.empty() || line.verb == "help") {
      std::cout << kUsage;
      return line.verb.empty() && !line.global.help ? 1 : 0;
    }
    auto it = commands().find(line.verb);
    if (it == commands().end()) throw Error("command \"" + line.verb + "\" does not exist");
    return it->second(line.global, line.args);
  } catch (const Error& e) {
    reportError(e.message());
  } catch (const std::exception& e) {
    reportError(e.what());
  }
  return failure;
}

// check: can this host run containers in VMs? One line per requirement; exit 1 when one fails.
#include <iostream>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "admin/host_check.hpp"
#include "common/durations.hpp"
#include "common/files.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"

namespace runvirt::cli {

int checkCommand(const GlobalOptions& global, const Args& args) {
  CheckOptions o = parseCheck(args);
  backend::HostCheckOptions host;
  try {
    host.config = backend::loadRuntimeConfig(global.config);
  } catch (const Error& e) {
    host.configError = e.message();
  }
  host.selfPath = backend::executablePath();
  host.daemonJson = o.daemonJson;
  host.bootProbeSeconds = o.probeTimeout;
  double start = log::monotonicSeconds();
  std::vector<backend::CheckResult> results = backend::runHostChecks(host);
  for (const auto& r : results) std::cout << backend::formatCheck(r) << "\n";
  std::string took = backend::formatSeconds(log::monotonicSeconds() - start, 1);
  std::size_t failed = 0;
  std::string accelerator;
  for (const auto& r : results) {
    if (r.status == backend::CheckStatus::Fail) ++failed;
    if (r.name == "accelerator") accelerator = r.detail.substr(0, r.detail.find(':'));
  }
  if (failed == 0) {
    std::cout << "runvirt can run containers on this host (accelerator " << accelerator
              << "; checked in " << took << ")\n";
    return 0;
  }
  std::cout << "runvirt cannot run containers on this host: " << failed << " check"
            << (failed == 1 ? "" : "s") << " failed (checked in " << took << ")\n";
  return 1;
}

}  // namespace runvirt::cli

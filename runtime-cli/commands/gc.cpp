// gc: the reaper by hand. VMs whose owner (a container's monitor, a teardown) is gone, found in
// vm_dir and among libvirt's domains, are torn down with what they hold on the host.
#include <iostream>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "runvirt/error.hpp"

namespace runvirt::cli {

int gcCommand(const GlobalOptions& global, const Args& args) {
  GcOptions o = parseGc(args);
  auto reaped = makeRuntime(global).collectGarbage(o.dryRun);
  for (const auto& orphan : reaped.orphans) {
    std::cout << (o.dryRun ? "would reap " : "reaped ") << orphan.domainName;
    if (!orphan.vmDir.empty()) std::cout << " (" << orphan.vmDir << ")";
    std::cout << ": " << orphan.why << "\n";
  }
  if (reaped.orphans.empty()) std::cout << "nothing to reap\n";
  if (reaped.failures.empty()) return 0;
  std::string failures;
  for (const auto& f : reaped.failures) failures += (failures.empty() ? "" : "; ") + f;
  throw Error("gc: " + failures);
}

}  // namespace runvirt::cli

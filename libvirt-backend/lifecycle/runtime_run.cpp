// `runvirt run`: create, start, then stay in the foreground like runc run.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/signal_sets.hpp"
#include "lifecycle/foreground.hpp"
#include "lifecycle/runtime.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

int Runtime::run(const CreateOptions& options, bool detach, bool keep) {
  // Blocked before the monitor exists, so no signal slips between create and the wait.
  sigset_t set = foregroundSignals();
  sigprocmask(SIG_BLOCK, &set, nullptr);
  pid_t monitor = create(options);
  try {
    start(options.id);
  } catch (Error& e) {
    try {
      remove(options.id, true);
    } catch (const Error&) {
      // The start error is the one to report.
    }
    if (!detach) waitpid(monitor, nullptr, 0);
    throw;
  }
  if (detach) return 0;
  int status = waitForwardingSignals(monitor, set);
  if (!keep) remove(options.id, true);
  return status;
}

}  // namespace runvirt::backend

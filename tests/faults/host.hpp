// The fault-injection suite's hands on the host: the daemons it stops, kills and starts again
// (always put back running afterwards), and a snapshot of everything runvirt can leave behind.
#pragma once

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/command.hpp"

namespace runvirt::faults {

using testsupport::Result;

// Runs a command (no shell), failing the test after `timeoutSeconds`.
Result run(const std::vector<std::string>& argv, const std::string& input = "",
           double timeoutSeconds = 180);
Result docker(const std::vector<std::string>& args, double timeoutSeconds = 180);

double now();
void sleepFor(double seconds);

// The pid of the process whose /proc/<pid>/comm is `comm`; 0 when none runs.
pid_t pidOf(const std::string& comm);
// Processes whose command line contains `part`.
std::vector<pid_t> pidsWithCommandLine(const std::string& part);
bool alive(pid_t pid);

// Sends `signal` to the daemon named `comm` and waits up to `timeoutSeconds` for it to exit.
// Returns the seconds it took; a negative value when it was still running (it is then killed).
double stopDaemon(const std::string& comm, int signal, double timeoutSeconds);
// scripts/start-daemons.sh: virtlogd, libvirtd (under tini -s) and dockerd, each when absent.
void startDaemons();

// What runvirt has on the host: libvirt domains, tap devices, mounts and directories under
// vm_dir, Docker's runvirt state directories and the containers' host cgroups.
using Traces = std::map<std::string, std::set<std::string>>;
Traces runvirtTraces();
// "kind: trace" lines of what `after` has and `before` does not.
std::string tracesAdded(const Traces& before, const Traces& after);

// Docker's daemon.json with "live-restore" set or unset; returns the previous content.
std::string setLiveRestore(bool on);
void restoreDaemonJson(const std::string& content);

}  // namespace runvirt::faults

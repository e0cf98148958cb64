// `run` and `exec` without --detach stay in the foreground like runc: they wait for their
// monitor and pass on the signals a person or a supervisor sends them.
#pragma once

#include <signal.h>
#include <sys/types.h>

namespace runvirt::backend {

// Waits for `monitor` (a child), forwarding `signals` (foregroundSignals() of
// common/signal_sets.hpp, blocked before the monitor exists) to it. Returns its exit status, 128+N
// when it died of signal N.
int waitForwardingSignals(pid_t monitor, const sigset_t& signals);

}  // namespace runvirt::backend

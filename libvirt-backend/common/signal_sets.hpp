// The signals runvirt's host processes block and take from a signalfd: one named set per process.
#pragma once

#include <signal.h>

namespace runvirt::backend {

// The container's monitor (monitor/monitor.cpp): the catchable standard signals (1-31) but CHLD,
// PIPE, the fault signals (SEGV BUS ILL FPE ABRT TRAP SYS) and the stops TSTP TTIN TTOU, which keep
// their default action; WINCH resizes the terminal, the rest goes to the container's init.
sigset_t monitorSignals();

// The exec monitor (monitor/exec_monitor.cpp): monitorSignals() plus TSTP TTIN TTOU, which it
// forwards to its exec'd process instead of stopping itself.
sigset_t execMonitorSignals();

// `run` and `exec` in the foreground (lifecycle/foreground.cpp): only what a person or a supervisor
// sends (HUP INT QUIT TERM USR1 USR2 WINCH ALRM CONT), passed on to their monitor; blocked before
// the monitor exists.
sigset_t foregroundSignals();

}  // namespace runvirt::backend

// What a process's end can be, as its parent sees it: the bounds runvirt checks on every exit
// code and signal number it did not produce itself (the guest's, a control peer's) before acting
// on it or ending itself the same way. A guest that reported SIGSTOP used to stop the monitor.
#pragma once

#include <string>

namespace runvirt::backend {

inline constexpr int kMaxSignal = 64;  // SIGRTMAX on Linux

// 1..64: a number kill(2) takes.
bool isSignalNumber(int signal);

// A signal number whose default action ends a process: not one that stops it (STOP TSTP TTIN
// TTOU), continues it (CONT) or is ignored (CHLD WINCH URG). Only these are re-raised to end a
// host process like the process it stands for.
bool isFatalSignal(int signal);

// Why a process cannot have ended with `code` and `signal`, or "" when it can: an exit code 0..255
// with signal 0, or a fatal signal with code 0.
std::string exitStatusProblem(int code, int signal);

}  // namespace runvirt::backend

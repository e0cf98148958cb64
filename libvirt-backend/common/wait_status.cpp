#include "common/wait_status.hpp"

#include <signal.h>

namespace runvirt::backend {

bool isSignalNumber(int signal) { return signal >= 1 && signal <= kMaxSignal; }

bool isFatalSignal(int signal) {
  switch (signal) {
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return false;
    default:
      return isSignalNumber(signal);
  }
}

std::string exitStatusProblem(int code, int signal) {
  if (signal == 0) {
    if (code < 0 || code > 255) return "exit code " + std::to_string(code) + " is not in 0-255";
    return "";
  }
  std::string number = std::to_string(signal);
  if (!isFatalSignal(signal)) return "signal " + number + " is not one a process dies of";
  if (code != 0) return "an exit code (" + std::to_string(code) + ") and a signal (" + number + ")";
  return "";
}

}  // namespace runvirt::backend

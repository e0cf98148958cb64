// What every child of the agent does first and last: it shares the agent's memory image but
// must not keep the agent's descriptors or signal state, and it reports failures over its
// sync channel before exiting.
#pragma once

#include <string>

namespace runvirt::agent {

// Keeps only the sync channel (returned, renumbered) and the log descriptor; closes every
// other descriptor inherited from the agent and resets the signal mask and dispositions.
int detachFromAgent(int syncFd);

// Sends `message` as an Error to the agent and exits with `code`.
[[noreturn]] void failChild(int syncFd, const std::string& message, int code);

// Shell-like exit codes for a failed exec: 127 not found, 126 not executable, 1 otherwise.
int execFailureCode(int errnum);

}  // namespace runvirt::agent

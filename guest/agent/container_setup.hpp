// The container side of create/start/exec: code that runs in children of the agent, each an
// ordered list of small steps whose names appear in errors (nsjail's containProc idea).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::agent {

inline constexpr const char* kShareDir = "/run/runvirt/share";
inline constexpr const char* kContainersDir = "/run/runvirt/containers";

// clone(2) flags for the container init: always a mount namespace, plus pid/uts/ipc/cgroup
// when asked. Never a network namespace: the VM's network is the container's.
unsigned long namespaceCloneFlags(const std::vector<std::string>& namespaces);

// In the child cloned with namespaceCloneFlags(): builds the container under `rootPath`,
// pivots into it, resolves user/cwd/executable, reports Ready (or the first error) over
// `syncFd`, waits for Start, then runs the process. Never returns.
[[noreturn]] void runContainerInit(const ContainerSpec& spec, const std::string& rootPath,
                                   int syncFd);

// In a child forked by the agent: joins the namespaces of the container whose init is
// `initPid`, forks the process there as a direct child of the agent (CLONE_PARENT), reports
// its pid, and exits; the new process prepares and execs. Never returns.
[[noreturn]] void runExecHelper(pid_t initPid, const ProcessSpec& spec, int syncFd);

}  // namespace runvirt::agent

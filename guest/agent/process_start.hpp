// Running one container process, in a child of the agent that is already inside the
// container (root, namespaces). Split in two because the container's init prepares at
// create time and runs at start time; an exec'd process does both at once.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::agent {

struct PreparedProcess {
  std::string executable;        // resolved like Go's exec.LookPath
  std::vector<std::string> env;  // spec env plus HOME when it had none
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// User lookup in the container's /etc/passwd and /etc/group, HOME, chdir(cwd) and the
// executable lookup. Errors carry runc's wording, e.g.
//   unable to find user NAME: no matching entries in passwd file
//   chdir to cwd ("/x") set in config.json failed: no such file or directory
//   exec: "NAME": executable file not found in $PATH
PreparedProcess prepareProcess(const ProcessSpec& spec);

// rlimits, umask, oom_score_adj, stdio (the agent's ends go over syncFd), groups and ids,
// capabilities, no_new_privs, seccomp, then execve. Returns only by throwing.
// `bindConsole`: the init process's terminal is also bound over /dev/console, as runc does.
void execProcess(const ProcessSpec& spec, const PreparedProcess& prepared, int syncFd,
                 bool bindConsole);

}  // namespace runvirt::agent

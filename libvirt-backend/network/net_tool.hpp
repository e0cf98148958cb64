// Runs the iproute2 tools (`ip`, `tc`) the network set-up needs: argv as is, never a shell,
// stdout returned, stderr folded into the error.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace runvirt::backend {

// Runs `tool` ("ip" or "tc", looked up in the system directories) with `args` in the calling
// thread's network namespace. `fds` maps (child fd, parent fd) as SpawnOptions::fds does.
// Throws Error("`ip link set ...`: <stderr>") when it fails or takes longer than 10 s.
std::string runNetTool(const std::string& tool, const std::vector<std::string>& args,
                       const std::vector<std::pair<int, int>>& fds = {});

}  // namespace runvirt::backend

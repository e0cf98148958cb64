// Names the OCI spec uses for Linux numbers: capabilities, rlimits, signals.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runvirt::oci {

// "CAP_SYS_ADMIN" -> 21. Unknown names -> nullopt.
std::optional<int> capabilityNumber(std::string_view name);
const std::vector<std::string>& capabilityNames();

// "RLIMIT_NOFILE" -> 7. Unknown names -> nullopt.
std::optional<int> rlimitNumber(std::string_view name);

// "KILL", "SIGKILL", "kill", "9" -> 9 (runc's `kill` accepts all of them). Unknown -> nullopt.
std::optional<int> parseSignal(std::string_view text);
// 9 -> "SIGKILL"; unknown numbers -> "SIG<n>".
std::string signalName(int signal);

}  // namespace runvirt::oci

// Identify a host process across pid reuse: pid plus its start time (field 22 of /proc/pid/stat).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace runvirt::backend {

// nullopt when the process does not exist (or is a zombie already reaped).
std::optional<std::uint64_t> processStartTime(pid_t pid);
// True when `pid` exists, is not a zombie, and started at `startTime`.
bool isSameProcessAlive(pid_t pid, std::uint64_t startTime);

// This boot of the host (/proc/sys/kernel/random/boot_id): a pid and start time recorded in
// another boot name nothing, even when a process with both happens to run now.
const std::string& currentBootId();

}  // namespace runvirt::backend

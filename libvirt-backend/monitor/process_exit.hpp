// Ending a host process the way the guest process it stands for ended.
#pragma once

#include "monitor/process_io.hpp"

namespace runvirt::backend {

// Exits with `status.code`, or dies of `status.signal` (no core file), so that whoever waits
// for this process sees the guest process's wait status (128+N for a shell, for the shim). A
// status no process can have (common/wait_status.hpp) ends it as SIGKILL: never stopped or alive.
[[noreturn]] void exitLike(const ExitStatus& status);

}  // namespace runvirt::backend

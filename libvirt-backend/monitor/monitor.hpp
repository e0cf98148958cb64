// The monitor: one host process per container (the pid in --pid-file, a child of whoever ran
// `create`). It owns the VM's libvirt connection and the agent channel, relays stdio, signals
// and resizes, serves start/kill/ps over the control socket, and exits with the workload's
// status (re-raising a fatal signal), which is how a VM looks like a process to Docker.
#pragma once

#include <string>

#include "vm/hypervisor.hpp"

namespace runvirt::backend {

struct MonitorOptions {
  std::string root;
  std::string id;
  std::string consoleSocket;
  std::string configPath;
  int syncFd = -1;  // control::reportChannel(): `create` waits there for done or failed
  HypervisorFactory connectHypervisor = connectLibvirt;  // a fake in unit tests
};

[[noreturn]] void runMonitor(const MonitorOptions& options);

}  // namespace runvirt::backend

// Ending a VM whatever state libvirtd is in.
#pragma once

#include <string>

#include "vm/hypervisor.hpp"

namespace runvirt::backend {

// Destroys domain `name` through libvirt at `uri`; when libvirt cannot be reached (stopped,
// restarting, not answering), kills its QEMU instead (vm_processes.hpp) and logs why. Returns
// false when there was nothing to destroy. Throws when libvirt answers with an error.
bool destroyVm(const HypervisorFactory& connect, const std::string& uri, const std::string& name);

}  // namespace runvirt::backend

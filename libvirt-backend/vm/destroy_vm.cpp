#include "vm/destroy_vm.hpp"

#include <memory>

#include "common/log.hpp"
#include "runvirt/error.hpp"
#include "vm/vm_processes.hpp"

namespace runvirt::backend {

namespace {

constexpr double kQemuExitWaitSeconds = 5;

}  // namespace

bool destroyVm(const HypervisorFactory& connect, const std::string& uri, const std::string& name) {
  std::unique_ptr<Hypervisor> hypervisor;
  try {
    hypervisor = connect(uri);
  } catch (const Error& e) {
    log::warn("destroy VM " + quote(name) + " without libvirt (" + e.message() +
              "): killing its QEMU");
    return killQemu(name, kQemuExitWaitSeconds);
  }
  return hypervisor->destroy(name);
}

}  // namespace runvirt::backend

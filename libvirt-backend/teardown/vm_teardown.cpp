#include "common/durations.hpp"
#include "teardown/vm_teardown.hpp"

#include "cgroups/host_cgroup.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "network/tap.hpp"
#include "runvirt/error.hpp"
#include "storage/host_mounts.hpp"
#include "storage/share.hpp"
#include "vm/destroy_vm.hpp"
#include "vm/vm_config.hpp"

namespace runvirt::backend {

void tearDownVm(const VmResources& vm, const HypervisorFactory& connect,
                const std::string& libvirtUri, std::string* timings) {
  std::string errors;
  std::string times;
  auto attempt = [&](const char* what, auto&& step) {
    double t0 = log::monotonicSeconds();
    try {
      step();
    } catch (const Error& e) {
      errors += std::string(errors.empty() ? "" : "; ") + what + ": " + e.message();
    }
    times += std::string(times.empty() ? "" : ", ") + what + " " +
             formatSeconds(log::monotonicSeconds() - t0);
  };
  bool domainMayExist = !vm.vmDir.empty() && pathExists(VmPaths{vm.vmDir}.domainMarker());
  if (!vm.domainName.empty() && domainMayExist) {
    attempt("destroy VM", [&] { destroyVm(connect, libvirtUri, vm.domainName); });
  }
  if (!vm.vmDir.empty()) {
    VmPaths paths{vm.vmDir};
    attempt("unmount share", [&] { teardownShare(paths); });
    // Before the VM directory goes: it lists the cgroup directories the monitor made.
    attempt("remove cgroup", [&] { removeContainerCgroup(paths.dir); });
    attempt("remove VM directory", [&] { removeTree(paths.dir); });
    attempt("remove disk nodes", [&] { removeTree(paths.diskNodesDir()); });
  }
  // Taps still in the host's namespace (a monitor killed while its domain started).
  std::vector<std::string> taps = vm.hostTaps;
  if (!vm.vmDir.empty()) {
    for (const auto& tap : recordedTaps(vm.vmDir)) taps.push_back(tap);
  }
  attempt("remove taps", [&] { removeHostTaps(taps); });
  if (timings) *timings = times;
  if (!errors.empty()) throw Error(errors);
}

}  // namespace runvirt::backend

#include <iostream>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "runvirt/error.hpp"
#include "runvirt/oci/linux_names.hpp"
#include "runvirt/oci/mount_options.hpp"
#include "vm/seccomp_compile.hpp"

namespace runvirt::cli {

// runtime-spec features.md: what this runtime implements, for dockerd and the shim.
int featuresCommand(const GlobalOptions&, const Args& args) {
  if (!args.empty())
    throw Error("\"features\" requires exactly 0 argument(s)", ErrorKind::InvalidArgument);
  nlohmann::json features = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.0.2-dev"},
      {"hooks", {"prestart", "createRuntime", "poststart", "poststop"}},
      {"mountOptions", oci::knownMountOptions()},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "uts"}},
        {"capabilities", oci::capabilityNames()},
        {"cgroup", {{"v1", false}, {"v2", false}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions", backend::seccompActionNames()},
          {"operators", backend::seccompOperatorNames()},
          {"archs", backend::seccompArchitectureNames()}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations", {{"org.opencontainers.runtime-spec.features.runvirt.vm", "libvirt"}}},
  };
  std::cout << features.dump(4) << "\n";
  return 0;
}

}  // namespace runvirt::cli

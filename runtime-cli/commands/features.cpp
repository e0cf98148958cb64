#include <iostream>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "runvirt/error.hpp"
#include "runvirt/oci/linux_names.hpp"

namespace runvirt::cli {

// runtime-spec features.md: what this runtime implements, for dockerd and the shim.
int featuresCommand(const GlobalOptions&, const Args& args) {
  if (!args.empty()) throw Error("\"features\" requires exactly 0 argument(s)", ErrorKind::InvalidArgument);
  nlohmann::json features = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.0.2-dev"},
      {"hooks", {"prestart", "createRuntime", "poststart", "poststop"}},
      {"mountOptions",
       {"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime",
        "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand",
        "norelatime", "nostrictatime", "nosuid", "private", "rbind", "relatime", "remount", "ro", "rprivate",
        "rshared", "rslave", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "sync",
        "unbindable"}},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "uts"}},
        {"capabilities", oci::capabilityNames()},
        {"cgroup", {{"v1", false}, {"v2", false}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions",
           {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
            "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
          {"operators",
           {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
            "SCMP_CMP_NE"}},
          {"archs", {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations", {{"org.opencontainers.runtime-spec.features.runvirt.vm", "libvirt"}}},
  };
  std::cout << features.dump(4) << "\n";
  return 0;
}

}  // namespace runvirt::cli

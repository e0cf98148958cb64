// KVM or TCG? KVM only when the CPU advertises it, /dev/kvm opens and a tiny guest really
// runs on it within a deadline: on some hosts /dev/kvm exists but guests hang on it.
#pragma once

#include <optional>
#include <string>

#include "runvirt/backend/runtime_config.hpp"
#include "runvirt/backend/vm_config.hpp"

namespace runvirt::backend {

struct AcceleratorDecision {
  Accelerator accelerator = Accelerator::Tcg;
  std::string reason;  // one line for `runvirt check` and the debug log
};

struct KvmFacts {
  bool cpuHasVirtualization = false;  // vmx or svm in /proc/cpuinfo
  bool devKvmUsable = false;          // /dev/kvm opens read-write
  std::optional<bool> probeRan;       // nullopt: not tried
  std::string probeDetail;            // why the probe failed, or "guest halted"
};

// Pure decision from gathered facts (unit-tested).
AcceleratorDecision decideAccelerator(AcceleratorChoice choice, const KvmFacts& facts);

// Gathers the facts it needs (the probe is skipped when earlier checks already fail) and
// caches an `auto` decision in `cacheDir` for the current boot.
AcceleratorDecision chooseAccelerator(AcceleratorChoice choice, const std::string& cacheDir);

// Runs a one-instruction guest (hlt) on /dev/kvm in a child process, killed after
// `timeoutSeconds`. Returns true when the guest halted as expected.
bool probeKvm(double timeoutSeconds, std::string& detail);

}  // namespace runvirt::backend

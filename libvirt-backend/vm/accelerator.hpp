// KVM or TCG? KVM only when the CPU advertises it, /dev/kvm opens and a tiny guest really
// runs on it within a deadline: on some hosts /dev/kvm exists but guests hang on it. On this
// project's CI machines a one-instruction guest even halts fine while QEMU's firmware never
// reaches the guest kernel, so a second, optional probe boots the real guest kernel.
#pragma once

#include <optional>
#include <string>

#include "common/runtime_config.hpp"
#include "vm/vm_config.hpp"

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
  std::optional<bool>
      bootProbeRan;  // the guest kernel booted under QEMU with KVM; nullopt: not tried
  std::string bootProbeDetail;
  std::string devKvmDetail;  // "missing", "cannot be opened: ...", "opens (API 12)"
};

// Pure decision from gathered facts (unit-tested).
AcceleratorDecision decideAccelerator(AcceleratorChoice choice, const KvmFacts& facts);

// "CPU flags: no vmx/svm; /dev/kvm: opens (API 12); ..." : every fact gathered, for `runvirt
// check`.
std::string describeKvmFacts(const KvmFacts& facts);

// What the boot probe boots: QEMU (-accel kvm, the domain's machine type and CPU) with the
// guest kernel, until the kernel prints its banner on the serial console.
struct BootProbeTarget {
  std::string qemu;
  std::string kernel;
  double timeoutSeconds = 3;  // a KVM guest prints its banner well within 1 s
};

struct KvmProbeOptions {
  // chooseAccelerator stops at the first fact that rules KVM out; `runvirt check` gathers every
  // fact (it runs the probes even without vmx/svm) to show why.
  bool stopAtFirstFailure = true;
  std::optional<BootProbeTarget> boot;  // nullopt: no boot probe
};

KvmFacts gatherKvmFacts(const KvmProbeOptions& options);

// Gathers the facts it needs (the probe is skipped when earlier checks already fail) and
// caches an `auto` decision in `cacheDir` for the current boot.
AcceleratorDecision chooseAccelerator(AcceleratorChoice choice, const std::string& cacheDir,
                                      const std::optional<BootProbeTarget>& boot = std::nullopt);

// Runs a one-instruction guest (hlt) on /dev/kvm in a child process, killed after
// `timeoutSeconds`. Returns true when the guest halted as expected.
bool probeKvm(double timeoutSeconds, std::string& detail);

// Starts QEMU with `accel` ("kvm" or "tcg") on the target's kernel (no initrd, no disk) and
// waits up to its timeout for the "Linux version" banner on the serial console; QEMU is killed
// either way. Returns true when the banner appeared.
bool probeGuestBoot(const BootProbeTarget& target, const std::string& accel, std::string& detail);

}  // namespace runvirt::backend

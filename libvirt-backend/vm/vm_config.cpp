#include "vm/vm_config.hpp"

#include <algorithm>

namespace runvirt::backend {

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

// Options measured to boot the Debian cloud kernel fastest under TCG (docs/libvirt-recipe.md §8;
// the runvirt guest kernel ignores those it has no code for);
// panic=-1 turns a guest panic into a reset, which ends the VM (on_reboot=destroy).
constexpr const char* kBaseCmdline =
    "console=ttyS0 quiet loglevel=0 cryptomgr.notests mitigations=off tsc=reliable no_timer_check "
    "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd audit=0 apparmor=0 random.trust_cpu=on "
    "8250.nr_uarts=1 nowatchdog";
constexpr const char* kNoAcpi = " acpi=off";
constexpr const char* kPanicResets = " panic=-1";
// Under TCG the kernel spends ~0.25 s calibrating the local APIC timer against the PIT (measured
// with the runvirt guest kernel; KVM offers a TSC-deadline timer, which needs no calibration).
// Without it the PIT drives the ticks (broadcast to the other vCPUs): sleeps stay exact.
constexpr const char* kNoApicTimer = " noapictimer";

unsigned planVcpus(const oci::Spec& spec, const RuntimeConfig& config, unsigned hostCpus) {
  unsigned vcpus = config.defaultVcpus;
  if (spec.linux && spec.linux->resources && spec.linux->resources->cpu) {
    const auto& cpu = *spec.linux->resources->cpu;
    if (cpu.quota && *cpu.quota > 0 && cpu.period && *cpu.period > 0) {
      auto quota = static_cast<std::uint64_t>(*cpu.quota);
      vcpus = static_cast<unsigned>((quota + *cpu.period - 1) / *cpu.period);
    }
  }
  return std::clamp(vcpus, 1u, std::max(1u, hostCpus));
}

unsigned planMemoryMiB(const oci::Spec& spec, const RuntimeConfig& config) {
  if (spec.linux && spec.linux->resources && spec.linux->resources->memory) {
    const auto& limit = spec.linux->resources->memory->limit;
    if (limit && *limit > 0) {
      auto mib = (static_cast<std::uint64_t>(*limit) + kMiB - 1) / kMiB;
      return static_cast<unsigned>(mib) + config.memoryOverheadMiB;
    }
  }
  return config.defaultMemoryMiB;
}

}  // namespace

std::string toString(Accelerator accelerator) {
  return accelerator == Accelerator::Kvm ? "kvm" : "tcg";
}

std::string guestCmdline(const RuntimeConfig& config, Accelerator accelerator, bool debug,
                         bool acpi) {
  std::string cmdline = std::string(kBaseCmdline) + (acpi ? "" : kNoAcpi) +
                        (accelerator == Accelerator::Tcg ? kNoApicTimer : "") + kPanicResets;
  if (debug) cmdline += " runvirt.debug=1";
  if (!config.kernelParams.empty()) cmdline += " " + config.kernelParams;
  return cmdline;
}

VmConfig planVm(const oci::Spec& spec, const RuntimeConfig& config, const VmIdentity& identity,
                Accelerator accelerator, unsigned hostCpus, bool debug) {
  VmConfig vm;
  vm.name = identity.name;
  vm.owner = identity.owner;
  vm.paths = identity.paths;
  vm.accelerator = accelerator;
  vm.vcpus = planVcpus(spec, config, hostCpus);
  vm.memoryMiB = planMemoryMiB(spec, config);
  vm.emulator = config.qemu;
  vm.kernel = config.kernel;
  vm.initrd = config.initrd;
  // The cloud kernel finds CPUs beyond the first only in ACPI's MADT (it has no MP-table
  // parser, CONFIG_X86_MPPARSE is off); ACPI costs ~0.2 s of boot under TCG, so a 1-vCPU VM
  // goes without. (The runvirt guest kernel has no ACPI and reads the MP table instead.)
  vm.acpi = vm.vcpus > 1;
  vm.cmdline = guestCmdline(config, accelerator, debug, vm.acpi);
  vm.virtiofsd = config.virtiofsd;
  vm.tcgTbCacheMiB = accelerator == Accelerator::Tcg ? config.tcgTbCacheMiB : 0;
  vm.qemuUser = config.qemuUser;
  return vm;
}

}  // namespace runvirt::backend

#include "vm/vm_config.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define RUNVIRT_HAS_TSC 1
#endif

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
// TCG only (KVM has kvm-clock and a TSC-deadline timer, and the guest calibrates nothing).
// QEMU's local APIC timer counts QEMU's virtual clock: 1 GHz, so 4,000,000 bus clocks per tick
// of the guest kernel (HZ=250, guest/kernel/runvirt-guest.config). Given that, the runvirt guest
// kernel (guest/kernel/build-guest-kernel.sh) neither calibrates the timer against the PIT
// (~0.25 s of boot) nor needs the PIT at all, and an idle guest sleeps for as long as its next
// timer allows instead of waking every 27 ms (the PIT's one-shot limit). A kernel without that
// parameter calibrates the timer instead.
constexpr const char* kTcgApicTimer = " lapic_timer_period=4000000";
// The guest's TSC under TCG is the host's (QEMU reads it), so its rate is the host's. Without
// this the guest calibrates it against the PIT, which fails under TCG on a busy host (the PIT's
// reads are too slow and uneven): the TSC is then marked unstable, the clock falls back to
// jiffies and the guest ticks 250 times a second for good.
constexpr const char* kTscKhz = " tsc_early_khz=";

#ifdef RUNVIRT_HAS_TSC
struct TscSample {
  double seconds = 0;  // CLOCK_MONOTONIC_RAW
  unsigned long long tsc = 0;
};

double monotonicRaw() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// The TSC read between two clock reads that were closest together, dated at their middle.
TscSample sampleTsc() {
  TscSample best;
  double narrowest = 1;
  for (int i = 0; i < 16; ++i) {
    double before = monotonicRaw();
    unsigned long long tsc = __rdtsc();
    double after = monotonicRaw();
    if (after - before < narrowest) {
      narrowest = after - before;
      best = {(before + after) / 2, tsc};
    }
  }
  return best;
}

// Taken when the process starts: the measurement in hostTscKhz() spans the process's own set-up
// (the monitor reaches planVm tens of milliseconds later) and costs nothing.
const TscSample kStartSample = sampleTsc();

bool hostTscIsInvariant() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) && (edx & (1u << 8));
}
#endif

constexpr double kTscWindowSeconds = 0.005;  // ~1 ppm with the clock reads ~50 ns apart

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

unsigned hostTscKhz() {
#ifdef RUNVIRT_HAS_TSC
  static const unsigned khz = [] {
    if (!hostTscIsInvariant()) return 0u;
    double waited = monotonicRaw() - kStartSample.seconds;
    if (waited < kTscWindowSeconds)
      std::this_thread::sleep_for(std::chrono::duration<double>(kTscWindowSeconds - waited));
    TscSample now = sampleTsc();
    double hz = double(now.tsc - kStartSample.tsc) / (now.seconds - kStartSample.seconds);
    // Anything outside 100 MHz..20 GHz is a broken measurement: let the guest calibrate.
    return hz > 1e8 && hz < 2e10 ? static_cast<unsigned>(std::lround(hz / 1000)) : 0u;
  }();
  return khz;
#else
  return 0;
#endif
}

std::string toString(Accelerator accelerator) {
  return accelerator == Accelerator::Kvm ? "kvm" : "tcg";
}

std::string guestCmdline(const RuntimeConfig& config, Accelerator accelerator, bool debug,
                         bool acpi, unsigned tscKhz) {
  std::string cmdline = std::string(kBaseCmdline) + (acpi ? "" : kNoAcpi);
  if (accelerator == Accelerator::Tcg) {
    cmdline += kTcgApicTimer;
    if (tscKhz) cmdline += kTscKhz + std::to_string(tscKhz);
  }
  cmdline += kPanicResets;
  if (debug) cmdline += " runvirt.debug=1";
  if (!config.kernelParams.empty()) cmdline += " " + config.kernelParams;
  return cmdline;
}

VmConfig planVm(const oci::Spec& spec, const RuntimeConfig& config, const VmIdentity& identity,
                Accelerator accelerator, const HostFacts& host, bool debug) {
  VmConfig vm;
  vm.name = identity.name;
  vm.owner = identity.owner;
  vm.paths = identity.paths;
  vm.accelerator = accelerator;
  vm.vcpus = planVcpus(spec, config, host.cpus);
  vm.memoryMiB = planMemoryMiB(spec, config);
  vm.emulator = config.qemu;
  vm.kernel = config.kernel;
  vm.initrd = config.initrd;
  // The cloud kernel finds CPUs beyond the first only in ACPI's MADT (it has no MP-table
  // parser, CONFIG_X86_MPPARSE is off); ACPI costs ~0.2 s of boot under TCG, so a 1-vCPU VM
  // goes without. (The runvirt guest kernel has no ACPI and reads the MP table instead.)
  vm.acpi = vm.vcpus > 1;
  vm.cmdline = guestCmdline(config, accelerator, debug, vm.acpi, host.tscKhz);
  vm.virtiofsd = config.virtiofsd;
  vm.tcgTbCacheMiB = accelerator == Accelerator::Tcg ? config.tcgTbCacheMiB : 0;
  vm.qemuUser = config.qemuUser;
  return vm;
}

}  // namespace runvirt::backend

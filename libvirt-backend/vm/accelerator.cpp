#include "vm/accelerator.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/durations.hpp"
#include "common/files.hpp"
#include "runvirt/file_io.hpp"
#include "common/subprocess.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

bool cpuHasVirtualization() {
  std::string cpuinfo;
  try {
    cpuinfo = readFile("/proc/cpuinfo");
  } catch (const Error&) {
    return false;
  }
  std::istringstream in(cpuinfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      if (word == "vmx" || word == "svm") return true;
    }
    return false;
  }
  return false;
}

// Sets `usable` and says why.
std::string devKvmState(bool& usable) {
  usable = false;
  UniqueFd fd(open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!fd)
    return errno == ENOENT ? "missing" : std::string("cannot be opened: ") + std::strerror(errno);
  int api = ioctl(fd.get(), KVM_GET_API_VERSION, 0);
  if (api != KVM_API_VERSION) {
    return "opens, but reports API version " + std::to_string(api) + " (expected " +
           std::to_string(KVM_API_VERSION) + ")";
  }
  usable = true;
  return "opens (API " + std::to_string(api) + ")";
}

// The last non-empty line of QEMU's output, printable characters only, for an error message.
std::string lastLine(const std::string& output) {
  std::string line, last;
  for (char c : output) {
    if (c == '\n' || c == '\r') {
      if (!line.empty()) last = line;
      line.clear();
    } else if (c >= 0x20 && c < 0x7f && line.size() < 200) {
      line += c;
    }
  }
  return line.empty() ? last : line;
}

// Child side of the probe: exit code 0 = the guest ran `hlt`.
int runHaltGuest() {
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) return 10;
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) return 11;
  void* mem = mmap(nullptr, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 12;
  static_cast<unsigned char*>(mem)[0] = 0xf4;  // hlt
  kvm_userspace_memory_region region{};
  region.guest_phys_addr = 0;
  region.memory_size = 0x1000;
  region.userspace_addr = reinterpret_cast<__u64>(mem);
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) return 13;
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) return 14;
  int runSize = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (runSize <= 0) return 15;
  auto* run =
      static_cast<kvm_run*>(mmap(nullptr, runSize, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0));
  if (run == MAP_FAILED) return 16;
  kvm_sregs sregs{};
  if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) return 17;
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) return 18;
  kvm_regs regs{};
  regs.rip = 0;
  regs.rflags = 2;
  if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return 19;
  if (ioctl(vcpu, KVM_RUN, 0) < 0) return 20;
  return run->exit_reason == KVM_EXIT_HLT ? 0 : 21;
}

std::string bootId() {
  try {
    return readFile("/proc/sys/kernel/random/boot_id");
  } catch (const Error&) {
    return "";
  }
}

}  // namespace

bool probeKvm(double timeoutSeconds, std::string& detail) {
  pid_t child = fork();
  if (child < 0) {
    detail = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (child == 0) _exit(runHaltGuest());
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, child, 0)));
  pollfd p{pidfd.get(), POLLIN, 0};
  bool exited = pidfd && poll(&p, 1, static_cast<int>(timeoutSeconds * 1000)) > 0;
  if (!exited) kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  if (!exited) {
    detail = "a test guest did not halt within " + formatSeconds(timeoutSeconds, 1) +
             " (KVM present but not usable by ordinary guests)";
    return false;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    detail = "a test guest ran and halted";
    return true;
  }
  detail = "a test guest failed to run (step " +
           std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
  return false;
}

bool probeGuestBoot(const BootProbeTarget& target, const std::string& accel, std::string& detail) {
  if (access(target.kernel.c_str(), R_OK) != 0) {
    detail =
        "the guest kernel " + quote(target.kernel) + " cannot be read: " + std::strerror(errno);
    return false;
  }
  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) < 0) {
    detail = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
  UniqueFd devNull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  SpawnOptions o;
  o.path = target.qemu;
  // The domain's machine type and CPU model (domain_xml.cpp), no disk, no network, no initrd:
  // the kernel panics after its banner, which is all this waits for.
  o.argv = {target.qemu,
            "-accel",
            accel,
            "-machine",
            "pc",
            "-cpu",
            accel == "kvm" ? "host" : "max",
            "-m",
            "128",
            "-smp",
            "1",
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-serial",
            "stdio",
            "-no-reboot",
            "-kernel",
            target.kernel,
            "-append",
            "console=ttyS0 earlyprintk=ttyS0 panic=-1"};
  o.fds = {{0, devNull.get()}, {1, writeEnd.get()}, {2, writeEnd.get()}};
  o.newSession = true;
  pid_t pid;
  try {
    pid = spawn(o);
  } catch (const Error& e) {
    detail = "cannot start QEMU: " + e.message();
    return false;
  }
  writeEnd.reset();
  double start = log::monotonicSeconds();
  bool banner = false;
  ReadOutcome read = readUntil(readEnd.get(), target.timeoutSeconds, [&](const std::string& out) {
    return banner = out.find("Linux version") != std::string::npos;
  });
  const std::string& output = read.output;
  bool exited = read.endOfFile;
  double took = log::monotonicSeconds() - start;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  if (banner) {
    detail =
        "the guest kernel booted on " + accel + " (banner after " + formatSeconds(took, 1) + ")";
    return true;
  }
  if (exited) {
    std::string why = lastLine(output);
    detail = "QEMU with " + accel + " exited before the guest kernel printed anything";
    if (!why.empty()) detail += ": " + why;
    return false;
  }
  detail = "the guest kernel printed nothing within " + formatSeconds(target.timeoutSeconds, 1) +
           " under QEMU with " + accel + " (guests hang on this /dev/kvm)";
  return false;
}

AcceleratorDecision decideAccelerator(AcceleratorChoice choice, const KvmFacts& f) {
  if (choice == AcceleratorChoice::Tcg)
    return {Accelerator::Tcg, "tcg: chosen in the configuration"};
  if (choice == AcceleratorChoice::Kvm)
    return {Accelerator::Kvm, "kvm: chosen in the configuration"};
  if (!f.cpuHasVirtualization) {
    return {Accelerator::Tcg,
            "tcg: the CPU flags show no vmx/svm (hardware virtualization not offered)"};
  }
  if (!f.devKvmUsable) return {Accelerator::Tcg, "tcg: /dev/kvm is missing or cannot be opened"};
  if (!f.probeRan.value_or(false)) {
    return {Accelerator::Tcg,
            "tcg: " + (f.probeDetail.empty() ? std::string("KVM was not probed") : f.probeDetail)};
  }
  if (f.bootProbeRan && !*f.bootProbeRan) return {Accelerator::Tcg, "tcg: " + f.bootProbeDetail};
  std::string evidence = f.probeDetail;
  if (f.bootProbeRan) evidence += ", " + f.bootProbeDetail;
  return {Accelerator::Kvm, "kvm: vmx/svm present, /dev/kvm usable, " + evidence};
}

std::string describeKvmFacts(const KvmFacts& f) {
  std::string dev = f.devKvmDetail;
  if (dev.empty()) dev = f.devKvmUsable ? "usable" : "not examined";
  std::string out =
      std::string("CPU flags: ") + (f.cpuHasVirtualization ? "vmx/svm present" : "no vmx/svm");
  out += "; /dev/kvm: " + dev;
  out += "; hlt probe: " + (f.probeRan ? f.probeDetail : std::string("not run"));
  out += "; boot probe: " + (f.bootProbeRan ? f.bootProbeDetail : std::string("not run"));
  return out;
}

KvmFacts gatherKvmFacts(const KvmProbeOptions& o) {
  KvmFacts f;
  f.cpuHasVirtualization = cpuHasVirtualization();
  if (o.stopAtFirstFailure && !f.cpuHasVirtualization) return f;
  f.devKvmDetail = devKvmState(f.devKvmUsable);
  if (!f.devKvmUsable) return f;
  f.probeRan = probeKvm(2.0, f.probeDetail);
  if (o.stopAtFirstFailure && !*f.probeRan) return f;
  if (o.boot) f.bootProbeRan = probeGuestBoot(*o.boot, "kvm", f.bootProbeDetail);
  return f;
}

AcceleratorDecision chooseAccelerator(AcceleratorChoice choice, const std::string& cacheDir,
                                      const std::optional<BootProbeTarget>& bootProbe) {
  if (choice != AcceleratorChoice::Auto) return decideAccelerator(choice, {});
  std::string cachePath = cacheDir + "/accelerator.json";
  std::string boot = bootId();
  try {
    auto cached = nlohmann::json::parse(readFile(cachePath));
    if (cached.at("bootId") == boot) {
      return {cached.at("accelerator") == "kvm" ? Accelerator::Kvm : Accelerator::Tcg,
              cached.at("reason").get<std::string>()};
    }
  } catch (const std::exception&) {
    // No cache or a stale one: decide again.
  }
  KvmProbeOptions probe;
  probe.boot = bootProbe;
  KvmFacts facts = gatherKvmFacts(probe);
  AcceleratorDecision decision = decideAccelerator(choice, facts);
  try {
    nlohmann::json j = {{"bootId", boot},
                        {"accelerator", toString(decision.accelerator)},
                        {"reason", decision.reason}};
    writeFileAtomic(cachePath, j.dump() + "\n");
  } catch (const Error&) {
    // The cache only saves time; a read-only or missing dir is not an error.
  }
  return decision;
}

}  // namespace runvirt::backend

#include "runvirt/backend/accelerator.hpp"

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
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runvirt/backend/files.hpp"
#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

bool cpuHasVirtualization() {
  std::ifstream in("/proc/cpuinfo");
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

bool devKvmUsable() {
  UniqueFd fd(open("/dev/kvm", O_RDWR | O_CLOEXEC));
  return fd && ioctl(fd.get(), KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
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
  auto* run = static_cast<kvm_run*>(mmap(nullptr, runSize, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0));
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
    detail = "a test guest did not halt within " + std::to_string(timeoutSeconds).substr(0, 3) +
             " s (KVM present but not usable by ordinary guests)";
    return false;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    detail = "a test guest ran and halted";
    return true;
  }
  detail = "a test guest failed to run (step " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
  return false;
}

AcceleratorDecision decideAccelerator(AcceleratorChoice choice, const KvmFacts& f) {
  if (choice == AcceleratorChoice::Tcg) return {Accelerator::Tcg, "tcg: chosen in the configuration"};
  if (choice == AcceleratorChoice::Kvm) return {Accelerator::Kvm, "kvm: chosen in the configuration"};
  if (!f.cpuHasVirtualization) {
    return {Accelerator::Tcg, "tcg: the CPU flags show no vmx/svm (hardware virtualization not offered)"};
  }
  if (!f.devKvmUsable) return {Accelerator::Tcg, "tcg: /dev/kvm is missing or cannot be opened"};
  if (!f.probeRan.value_or(false)) return {Accelerator::Tcg, "tcg: " + f.probeDetail};
  return {Accelerator::Kvm, "kvm: vmx/svm present, /dev/kvm usable, " + f.probeDetail};
}

AcceleratorDecision chooseAccelerator(AcceleratorChoice choice, const std::string& cacheDir) {
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
  KvmFacts facts;
  facts.cpuHasVirtualization = cpuHasVirtualization();
  facts.devKvmUsable = facts.cpuHasVirtualization && devKvmUsable();
  if (facts.devKvmUsable) facts.probeRan = probeKvm(2.0, facts.probeDetail);
  AcceleratorDecision decision = decideAccelerator(choice, facts);
  try {
    nlohmann::json j = {{"bootId", boot}, {"accelerator", toString(decision.accelerator)}, {"reason", decision.reason}};
    writeFileAtomic(cachePath, j.dump() + "\n");
  } catch (const Error&) {
    // The cache only saves time; a read-only or missing dir is not an error.
  }
  return decision;
}

}  // namespace runvirt::backend

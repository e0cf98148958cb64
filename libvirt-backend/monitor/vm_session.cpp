#include "vm/vm_processes.hpp"
#include "common/durations.hpp"
#include "monitor/vm_session.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "vm/accelerator.hpp"
#include "vm/agent_spec.hpp"
#include "common/files.hpp"
#include "cgroups/host_cgroup.hpp"
#include "vm/seccomp_compile.hpp"
#include "storage/share.hpp"
#include "vm/destroy_vm.hpp"
#include "vm/vm_config.hpp"
#include "vm/vm_owner.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"

namespace runvirt::backend {

namespace {

constexpr double kCreateContainerTimeout = 60;
constexpr double kConfigureNetworkTimeout = 30;

void requireGuestAsset(const std::string& path, const char* what) {
  if (access(path.c_str(), R_OK) != 0) {
    throw Error(std::string("guest ") + what + " " + path +
                " is missing: install runvirt (`make install`) or set it in config.toml");
  }
}

// A pidfd per process, readable once it exits. A process already gone is left out: the VM is
// then in trouble the agent channel shows.
std::vector<UniqueFd> watchProcesses(const std::vector<pid_t>& pids) {
  std::vector<UniqueFd> fds;
  for (pid_t pid : pids) {
    UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (fd) fds.push_back(std::move(fd));
  }
  return fds;
}

}  // namespace

void VmSession::destroy() noexcept {
  try {
    destroyVm(connectHypervisor, libvirtUri, domainName);
  } catch (const std::exception& e) {
    log::error("destroy VM " + quote(domainName) + ": " + e.what());
  }
}

VmSession startContainerVm(VmStartRequest r) {
  double t0 = log::monotonicSeconds();
  VmPaths paths{r.record.vmDir};
  requireGuestAsset(r.config.kernel, "kernel");
  requireGuestAsset(r.config.initrd, "initrd");
  makeDirs(paths.dir, 0700);

  // The boot probe catches hosts whose KVM runs a test instruction but hangs real guests; it
  // runs at most once per host boot (the decision is cached).
  AcceleratorDecision accel = chooseAccelerator(r.config.accelerator, r.config.vmDir,
                                                BootProbeTarget{r.config.qemu, r.config.kernel});
  log::debug("accelerator " + accel.reason);

  // Before anything is made: a device the guest cannot provide is refused here.
  GuestDevices devices = planGuestDevices(r.spec, hostBlockDevice);
  if (!devices.leftOut.empty()) {
    log::warn("privileged container: " + std::to_string(devices.leftOut.size()) +
              " host devices are not given to the VM (it has its own), e.g. " +
              quote(devices.leftOut.front()));
  }
  auto mounts = withContext("prepare the share", [&] {
    return prepareShare(paths, r.spec, r.record.bundle, r.record.rootfs);
  });
  std::string bpf;
  if (r.spec.linux && r.spec.linux->seccomp) {
    bpf = withContext("compile seccomp profile",
                      [&] { return compileSeccomp(*r.spec.linux->seccomp); });
  }
  agent::ContainerSpec container = toAgentContainer(r.spec, r.record.id, std::move(mounts), bpf);
  container.devices = devices.nodes;
  if (r.terminalSize) {
    container.process.rows = r.terminalSize->rows;
    container.process.cols = r.terminalSize->cols;
  }

  VmOwner owner = selfAsOwner(VmOwner::Kind::Container, r.record.id, r.stateRoot);
  VmIdentity identity{r.record.domainName, owner, paths};
  HostFacts host{static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)),
                 accel.accelerator == Accelerator::Tcg ? hostTscKhz() : 0};
  VmConfig vm = planVm(r.spec, r.config, identity, accel.accelerator, host, log::options().debug);
  vm.interfaces = r.network.interfaces;
  vm.disks = devices.disks;
  withContext("give QEMU the block devices",
              [&] { makeDiskNodes(paths.diskNodesDir(), vm.disks, vm.qemuUser); });
  vm.dnsRelay = r.network.dnsRelay;
  double t1 = log::monotonicSeconds();

  VmSession session{vm.name, r.config.libvirtUri, r.connectHypervisor, std::nullopt, {}};
  // Before the domain may exist: whoever cleans up then knows to destroy it.
  writeFileAtomic(paths.domainMarker(), vm.name + "\n", 0600);
  withContext("start VM", [&] { r.hypervisor->startTransient(buildDomainXml(vm)); });
  r.hypervisor.reset();
  {
    std::vector<ProcessEntry> processes = readProcessTable();
    // host_cgroup.hpp: docker stats and OOM events see the monitor, QEMU and virtiofsd.
    placeVmInContainerCgroup(r.spec, r.record,
                             [&] { return vmProcesses(processes, vm.name, paths.dir); });
    session.virtiofsd = watchProcesses(findVirtiofsd(processes, paths.dir));
  }
  double t2 = log::monotonicSeconds();
  // While the guest boots: the taps QEMU now holds go to the container's network namespace.
  if (r.network.afterDomainStart)
    withContext("connect the container's network", r.network.afterDomainStart);
  double network = log::monotonicSeconds() - t2;

  session.agent = AgentClient::connect(paths.agentSocket());
  agent::Hello hello = withContext(
      "guest agent", [&] { return session.agent->handshake(r.config.agentTimeoutSeconds); });
  double t3 = log::monotonicSeconds();
  if (r.network.guestConfig) {
    withContext("configure the guest's network",
                [&] { session.agent->call(*r.network.guestConfig, kConfigureNetworkTimeout); });
  }
  double guestNetwork = log::monotonicSeconds() - t3;

  // runc's words for a failure of the container's own set-up (Docker matches on what follows).
  withContext("unable to start container process", [&] {
    session.agent->call(agent::CreateContainer{std::move(container)}, kCreateContainerTimeout);
  });
  double t4 = log::monotonicSeconds();

  log::debug("phases: setup " + formatSeconds(t1 - t0) + ", domain start " +
             formatSeconds(t2 - t1) + ", kernel boot (guest uptime at agent start) " +
             formatSeconds(hello.uptime) + ", agent ready " + formatSeconds(t3 - t2) +
             " after domain start (network attached in " + formatSeconds(network) +
             "), guest network " + formatSeconds(guestNetwork) + ", container prepared " +
             formatSeconds(t4 - t3 - guestNetwork) + "; " + toString(vm.accelerator) + ", " +
             std::to_string(vm.vcpus) + " vCPU, " + std::to_string(vm.memoryMiB) +
             " MiB, guest kernel " + hello.kernel);
  return session;
}

}  // namespace runvirt::backend

#include "common/signal_sets.hpp"
#include "monitor/process_exit.hpp"
#include "common/durations.hpp"
#include "monitor/monitor.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "network/container_network.hpp"
#include "network/netlink_watch.hpp"
#include "control/channel.hpp"
#include "common/files.hpp"
#include "teardown/vm_teardown.hpp"
#include "vm/vm_owner.hpp"
#include "network/dns_relay.hpp"
#include "state/hooks.hpp"
#include "monitor/monitor_loop.hpp"
#include "network/network_namespace.hpp"
#include "common/runtime_config.hpp"
#include "state/state_store.hpp"
#include "vm/vm_config.hpp"
#include "monitor/vm_session.hpp"
#include "monitor/workload_stdio.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"
#include "runvirt/oci/spec_json.hpp"

namespace runvirt::backend {

namespace {

UniqueFd blockAndWatchSignals() {
  sigset_t set = monitorSignals();
  if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) throwErrno("block signals");
  UniqueFd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) throwErrno("signalfd");
  return fd;
}

// The monitor must not keep anything of its parent's open but stdio: a stray copy of the
// shim's pipes would keep the shim waiting.
void closeInheritedFds(int keep) {
  for (int fd = 3; fd < 1024; ++fd) {
    if (fd != keep) close(fd);
  }
}

// Reports the outcome of set-up to the waiting `create`, exactly once. False when nobody is
// there to hear it (`create` was killed): then nobody will start or delete what was made.
class SetupReport {
 public:
  explicit SetupReport(int fd) : fd_(fd) {}
  bool ok() { return send(control::Done{}); }
  bool fail(const std::string& message) { return send(control::Failed{message}); }

 private:
  bool send(const control::Reply& outcome) {
    if (!fd_) return false;
    bool delivered = true;
    try {
      control::send(fd_.get(), outcome);
    } catch (const Error&) {
      delivered = false;
    }
    fd_.reset();
    return delivered;
  }
  UniqueFd fd_;
};

oci::State creatingState(const ContainerRecord& record) {
  oci::State state = record.ociState();
  state.status = oci::Status::Creating;
  state.pid = getpid();
  return state;
}

// After the hooks filled the namespace: taps for its interfaces, the DNS relay when the
// container's resolv.conf names Docker's embedded server, and what the VM needs of both.
VmNetwork prepareNetwork(ContainerNetwork& network, const ContainerRecord& record, bool dnsRelay) {
  VmNetwork vm;
  vm.dnsRelay = dnsRelay;
  // Forked before libvirt's connection exists: the monitor has no other thread yet.
  if (dnsRelay) startDnsRelay(VmPaths{record.vmDir}.dnsSocket());
  vm.interfaces = network.prepareNics();
  vm.afterDomainStart = [&network] { network.attachPrepared(); };
  if (!vm.interfaces.empty() || dnsRelay) vm.guestConfig = network.guestNetwork();
  return vm;
}

// Set-up failed and `create` is gone: nobody will delete the container, so its VM goes now. The
// record stays (the container reads as stopped), as a container's does until `delete`.
void abandonVm(const ContainerRecord& record, const RuntimeConfig& config,
               const HypervisorFactory& connect) {
  try {
    tearDownVm({record.domainName, record.vmDir, record.taps}, connect, config.libvirtUri);
  } catch (const std::exception& e) {
    log::error("tear down the VM of an abandoned create: " + std::string(e.what()));
  }
}

}  // namespace

void runMonitor(const MonitorOptions& o) {
  closeInheritedFds(o.syncFd);
  // Reopen the log file closed just above. Without --log the monitor logs nowhere: its
  // stderr is the workload's.
  log::Options logOptions = log::options();
  if (logOptions.path.empty()) logOptions.path = "/dev/null";
  log::configure(logOptions);
  SetupReport report(o.syncFd);
  signal(SIGPIPE, SIG_IGN);
  // Our own process group and session: the caller's terminal signals are for the caller.
  setsid();
  StateStore store(o.root);
  std::optional<VmSession> session;
  std::optional<WorkloadStdio> stdio;
  std::optional<ContainerNetwork> network;
  std::optional<NetlinkWatch> networkWatch;
  bool joinedNetwork = false;
  UniqueFd listener, signals;
  ContainerRecord record;
  RuntimeConfig config;
  try {
    record = store.load(o.id);
    // The VM directory names its owner before anything is made for the VM (vm_owner.hpp).
    makeDirs(record.vmDir, 0700);
    writeOwnerFile(record.vmDir, selfAsOwner(VmOwner::Kind::Container, record.id, store.root()));
    config = loadRuntimeConfig(o.configPath);
    applyLogLevel(config);
    oci::Spec spec = oci::loadSpec(record.bundle);
    refuseHostNetworking(spec);
    // In the host's namespace, and first: a libvirt that does not answer fails the container
    // before anything is made for it.
    std::unique_ptr<Hypervisor> hypervisor = o.connectHypervisor(config.libvirtUri);
    UniqueFd hostNamespace = openCurrentNetworkNamespace();
    signals = blockAndWatchSignals();
    stdio = setupWorkloadStdio(spec.process->terminal, o.consoleSocket);
    joinedNetwork = !spec.namespacePath("network").empty();
    enterNetworkNamespace(spec.namespacePath("network"));
    // Before anything reads the namespace: no change may slip between reading and watching.
    networkWatch.emplace();
    runHooks(spec.hooks.prestart, "prestart", creatingState(record));
    runHooks(spec.hooks.createRuntime, "createRuntime", creatingState(record));
    double t0 = log::monotonicSeconds();
    bool dnsRelay = usesEmbeddedDns(spec, record.bundle);
    network.emplace(std::move(hostNamespace), record.vmDir, dnsRelay);
    VmNetwork vmNetwork = withContext("container network",
                                      [&] { return prepareNetwork(*network, record, dnsRelay); });
    log::debug("phase network set-up (host side, before the VM): " +
               formatSeconds(log::monotonicSeconds() - t0));
    session = startContainerVm({record, spec, config, store.root(), stdio->currentSize(),
                                std::move(vmNetwork), std::move(hypervisor), o.connectHypervisor});
    listener = control::listen(VmPaths{record.vmDir}.controlSocket());
    // Set-up's own changes (taps moved in, qdiscs) are not news.
    networkWatch->drain();
    {
      StateLock lock = store.lock(o.id);
      record = store.load(o.id);
      record.status = oci::Status::Created;
      store.save(record);
    }
    if (!report.ok()) throw Error("`runvirt create` went away before the container was created");
  } catch (const std::exception& e) {
    // Before the report: `create` then tears down the rest, with nothing of ours in flight.
    if (network) network->undo();
    if (!report.fail(e.what())) abandonVm(record, config, o.connectHypervisor);
    _exit(1);
  }
  ExitStatus status;
  try {
    NetworkFollower follower(*network, *networkWatch, *session);
    MonitorLoop loop(store, o.id, *session, *stdio, std::move(listener), std::move(signals));
    loop.followNetwork(follower);
    status = loop.run();
  } catch (const std::exception& e) {
    log::error(std::string("monitor: ") + e.what());
    status = {0, SIGKILL};
  }
  session->destroy();
  // A namespace the container only joined outlives it: leave it as it was found.
  if (network && joinedNetwork) network->undo();
  stdio.reset();
  exitLike(status);
}

}  // namespace runvirt::backend

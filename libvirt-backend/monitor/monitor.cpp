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
#include "control/channel.hpp"
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

// Signals the monitor passes on to the workload (as kata-shim did), plus SIGWINCH for resizes.
// Synchronous faults and job control stay with the monitor.
sigset_t monitoredSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s = 1; s < 32; ++s) {
    switch (s) {
      case SIGKILL: case SIGSTOP: case SIGCHLD: case SIGPIPE: case SIGBUS: case SIGSEGV:
      case SIGABRT: case SIGILL: case SIGFPE: case SIGTRAP: case SIGSYS: case SIGTSTP:
      case SIGTTIN: case SIGTTOU:
        continue;
      default:
        sigaddset(&set, s);
    }
  }
  return set;
}

UniqueFd blockAndWatchSignals() {
  sigset_t set = monitoredSignals();
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

// Reports the outcome of set-up to the waiting `create`, exactly once.
class SetupReport {
 public:
  explicit SetupReport(int fd) : fd_(fd) {}
  void ok() { send(control::Done{}); }
  void fail(const std::string& message) { send(control::Failed{message}); }

 private:
  void send(const control::Reply& outcome) {
    if (!fd_) return;
    control::sendIfConnected(fd_.get(), outcome);
    fd_.reset();
  }
  UniqueFd fd_;
};

[[noreturn]] void exitLike(const ExitStatus& status) {
  if (status.signal > 0) {
    // Die of the same signal so the shim's wait status says 128+N; no core file for it.
    rlimit noCore{0, 0};
    setrlimit(RLIMIT_CORE, &noCore);
    signal(status.signal, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, status.signal);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(status.signal);
    _exit(128 + status.signal);
  }
  _exit(status.code & 0xff);
}

oci::State creatingState(const ContainerRecord& record) {
  oci::State state = record.ociState();
  state.status = oci::Status::Creating;
  state.pid = getpid();
  return state;
}

// Taps are recorded before they exist, so `delete` can remove what a crashed set-up left.
void recordTaps(const StateStore& store, const std::string& id, const std::vector<std::string>& taps) {
  StateLock lock = store.lock(id);
  ContainerRecord record = store.load(id);
  record.taps = taps;
  store.save(record);
}

// After the hooks filled the namespace: taps for its interfaces, the DNS relay when the
// container's resolv.conf names Docker's embedded server, and what the VM needs of both.
VmNetwork prepareNetwork(ContainerNetwork& network, const StateStore& store, const ContainerRecord& record,
                         const oci::Spec& spec) {
  VmNetwork vm;
  if (network.empty()) return vm;
  recordTaps(store, record.id, network.taps());
  network.createTaps();
  vm.interfaces = network.vmInterfaces();
  vm.afterDomainStart = [&network] { network.attach(); };
  vm.dnsRelay = usesEmbeddedDns(spec, record.bundle);
  network.keepHostDnsTraffic(vm.dnsRelay);
  // Forked before libvirt's connection exists: the monitor has no other thread yet.
  if (vm.dnsRelay) startDnsRelay(VmPaths{record.vmDir}.dnsSocket());
  vm.guestConfig = network.guestConfig(vm.dnsRelay);
  return vm;
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
  bool joinedNetwork = false;
  UniqueFd listener, signals;
  try {
    ContainerRecord record = store.load(o.id);
    RuntimeConfig config = loadRuntimeConfig(o.configPath);
    applyLogLevel(config);
    oci::Spec spec = oci::loadSpec(record.bundle);
    refuseHostNetworking(spec);
    UniqueFd hostNamespace = openCurrentNetworkNamespace();
    signals = blockAndWatchSignals();
    stdio = setupWorkloadStdio(spec.process->terminal, o.consoleSocket);
    joinedNetwork = !spec.namespacePath("network").empty();
    enterNetworkNamespace(spec.namespacePath("network"));
    runHooks(spec.hooks.prestart, "prestart", creatingState(record));
    runHooks(spec.hooks.createRuntime, "createRuntime", creatingState(record));
    double t0 = log::monotonicSeconds();
    network = withContext("container network", [&] { return ContainerNetwork::discover(std::move(hostNamespace)); });
    VmNetwork vmNetwork =
        withContext("container network", [&] { return prepareNetwork(*network, store, record, spec); });
    log::debug("phase network set-up (host side, before the VM): " +
               std::to_string(log::monotonicSeconds() - t0).substr(0, 5) + " s");
    session = startContainerVm(
        {record, spec, config, store.root(), stdio->currentSize(), std::move(vmNetwork), o.connectHypervisor});
    listener = control::listen(VmPaths{record.vmDir}.controlSocket());
    {
      StateLock lock = store.lock(o.id);
      record = store.load(o.id);
      record.status = oci::Status::Created;
      store.save(record);
    }
    report.ok();
  } catch (const std::exception& e) {
    // Before the report: `create` then tears down the rest, with nothing of ours in flight.
    if (network) network->undo();
    report.fail(e.what());
    _exit(1);
  }
  ExitStatus status;
  try {
    status = MonitorLoop(store, o.id, *session, *stdio, std::move(listener), std::move(signals)).run();
  } catch (const std::exception& e) {
    log::error(std::string("monitor: ") + e.what());
    status = {0, SIGKILL};
  }
  // Closing the libvirt connection destroys the VM (it was started tied to it).
  session.reset();
  // A namespace the container only joined outlives it: leave it as it was found.
  if (network && joinedNetwork) network->undo();
  stdio.reset();
  exitLike(status);
}

}  // namespace runvirt::backend

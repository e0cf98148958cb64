#include "lifecycle/runtime.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "control/channel.hpp"
#include "teardown/vm_teardown.hpp"
#include "vm/destroy_vm.hpp"
#include "common/files.hpp"
#include "storage/host_mounts.hpp"
#include "state/hooks.hpp"
#include "cgroups/host_cgroup.hpp"
#include "vm/hypervisor.hpp"
#include "common/process_info.hpp"
#include "storage/share.hpp"
#include "common/subprocess.hpp"
#include "network/tap.hpp"
#include "vm/vm_config.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"
#include "runvirt/oci/container_id.hpp"
#include "runvirt/oci/spec_json.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

constexpr double kControlTimeout = 60;
constexpr double kMonitorExitWait = 5;

std::string absolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) throwErrno("getcwd");
  return path.empty() || path == "." ? std::string(cwd) : std::string(cwd) + "/" + path;
}

// A domain name is not the container id: ids can be long and repeat across --root dirs.
std::string newDomainName() {
  std::random_device random;
  std::uniform_int_distribution<std::uint64_t> dist;
  char buf[32];
  snprintf(buf, sizeof buf, "runvirt-%016llx", static_cast<unsigned long long>(dist(random)));
  return buf;
}

void writePidFile(const std::string& path, pid_t pid) {
  std::string absolute = absolutePath(path);
  writeFileAtomic(absolute, std::to_string(pid), 0644);
}

// Waits for the monitor's set-up report. Throws its error, or says how it died without one.
void awaitSetupReport(int fd, pid_t monitor) {
  std::optional<control::Reply> report;
  std::string unreadable;
  try {
    report = control::receiveReply(fd);
  } catch (const Error& e) {
    unreadable = ": " + e.message();
  }
  if (report && std::holds_alternative<control::Done>(*report)) return;
  int status = 0;
  waitpid(monitor, &status, 0);
  if (auto* failed = report ? std::get_if<control::Failed>(&*report) : nullptr)
    throw Error(failed->error);
  throw Error("the monitor exited during set-up (" + describeWaitStatus(status) + ")" + unreadable);
}

void waitUntilDead(const ContainerRecord& record, double seconds) {
  double deadline = log::monotonicSeconds() + seconds;
  while (record.monitorAlive() && log::monotonicSeconds() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

Runtime::Runtime(std::string root, std::string configPath, std::vector<std::string> globalArgs,
                 HypervisorFactory connect)
    : store_(std::move(root)),
      configPath_(std::move(configPath)),
      config_(loadRuntimeConfig(configPath_)),
      globalArgs_(std::move(globalArgs)),
      connect_(std::move(connect)) {
  // config.toml's log_level; the monitors started from here inherit "debug" as --debug.
  if (applyLogLevel(config_)) globalArgs_.push_back("--debug");
}

pid_t Runtime::create(const CreateOptions& o) {
  oci::validateContainerId(o.id);
  ContainerRecord record;
  record.id = o.id;
  record.bundle = absolutePath(o.bundle);
  oci::Spec spec = oci::loadSpec(record.bundle);
  record.rootfs = spec.root.path[0] == '/' ? spec.root.path : record.bundle + "/" + spec.root.path;
  struct stat st {};
  if (stat(record.rootfs.c_str(), &st) < 0) throwErrno("invalid rootfs: stat " + record.rootfs);
  if (!S_ISDIR(st.st_mode)) throw Error("invalid rootfs: " + record.rootfs + " is not a directory");
  if (spec.process->terminal && o.consoleSocket.empty() && !isatty(0) && !isatty(1)) {
    // runc's own check: a terminal needs somewhere to go.
    throw Error("cannot allocate tty if runc will detach without setting console socket");
  }
  record.created = log::nowRfc3339Nano();
  record.domainName = newDomainName();
  record.vmDir = config_.vmDir + "/" + record.domainName;
  record.annotations = spec.annotations;
  record.hooks = hooksToJson(spec.hooks);

  store_.claim(o.id);
  try {
    store_.save(record);
    auto [reportRead, reportWrite] = control::reportChannel();
    pid_t monitor = spawnMonitor(o, reportWrite.get());
    reportWrite.reset();
    {
      StateLock lock = store_.lock(o.id);
      ContainerRecord saved = store_.load(o.id);
      saved.monitorPid = monitor;
      saved.monitorStartTime = processStartTime(monitor).value_or(0);
      saved.bootId = currentBootId();
      store_.save(saved);
      record = saved;
    }
    awaitSetupReport(reportRead.get(), monitor);
    if (!o.pidFile.empty()) writePidFile(o.pidFile, monitor);
    reapQuietly(reaperScope(false));  // after the container exists: off its start-up path
    return monitor;
  } catch (const std::exception& original) {
    // Whatever failed (a runvirt::Error or not), nothing of the container may stay behind.
    std::string cleanupFailure = cleanUpFailedCreate(record);
    if (cleanupFailure.empty()) throw;
    auto* error = dynamic_cast<const Error*>(&original);
    throw Error(std::string(original.what()) + " (cleanup also failed: " + cleanupFailure + ")",
                error ? error->kind() : ErrorKind::Failure);
  }
}

pid_t Runtime::spawnMonitor(const CreateOptions& o, int reportFd) {
  SpawnOptions spawnOptions;
  spawnOptions.path = "/proc/self/exe";
  spawnOptions.argv = {"runvirt", "--root", store_.root()};
  spawnOptions.argv.insert(spawnOptions.argv.end(), globalArgs_.begin(), globalArgs_.end());
  for (std::string arg : {"monitor", "--id", o.id.c_str(), "--sync-fd", "3"})
    spawnOptions.argv.push_back(arg);
  if (!o.consoleSocket.empty()) {
    spawnOptions.argv.push_back("--console-socket");
    spawnOptions.argv.push_back(absolutePath(o.consoleSocket));
  }
  spawnOptions.fds = {{0, 0}, {1, 1}, {2, 2}, {3, reportFd}};
  return spawn(spawnOptions);
}

// Returns what could not be cleaned up ("" when everything was).
std::string Runtime::cleanUpFailedCreate(const ContainerRecord& record) noexcept {
  try {
    // The monitor records what it makes (taps) as it goes: clean up after the latest record.
    ContainerRecord latest = record;
    try {
      latest = store_.load(record.id);
    } catch (const Error&) {
    }
    destroyResources(latest);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

void Runtime::start(const std::string& id) {
  ContainerRecord record = store_.load(id);
  switch (record.effectiveStatus()) {
    case oci::Status::Created:
      break;
    case oci::Status::Stopped:
      throw Error("cannot start a container that has stopped");
    case oci::Status::Running:
      throw Error("cannot start an already running container");
    default:
      throw Error("cannot start a container in the " + oci::toString(record.effectiveStatus()) +
                  " state");
  }
  control::call(VmPaths{record.vmDir}.controlSocket(), control::Start{}, kControlTimeout);
  try {
    runHooks(hooksFromJson(record.hooks, "poststart"), "poststart", store_.load(id).ociState());
  } catch (Error& e) {
    kill(id, SIGKILL, true);
    throw;
  }
}

oci::State Runtime::state(const std::string& id) const { return store_.load(id).ociState(); }

std::vector<oci::State> Runtime::list() const {
  std::vector<oci::State> out;
  for (const auto& id : store_.ids()) {
    try {
      out.push_back(store_.load(id).ociState());
    } catch (const Error&) {
      // Removed while listing: not a container any more.
    }
  }
  return out;
}

void Runtime::kill(const std::string& id, int signal, bool all) {
  ContainerRecord record = store_.load(id);
  if (record.effectiveStatus() == oci::Status::Stopped)
    throw Error("container not running", ErrorKind::NotRunning);
  try {
    control::call(VmPaths{record.vmDir}.controlSocket(), control::Kill{signal, all},
                  kControlTimeout);
  } catch (const Error& e) {
    // A wedged or vanished monitor must not make SIGKILL fail: kill from the host.
    if (signal != SIGKILL || e.kind() == ErrorKind::Failure) throw;
    stopNow(record);
  }
}

void Runtime::stopNow(const ContainerRecord& record) {
  destroyVm(connect_, config_.libvirtUri, record.domainName);
  waitUntilDead(record, kMonitorExitWait);
  if (record.monitorAlive()) ::kill(record.monitorPid, SIGKILL);
}

void Runtime::remove(const std::string& id, bool force) {
  ContainerRecord record = store_.load(id);
  oci::Status status = record.effectiveStatus();
  if (status != oci::Status::Stopped) {
    if (!force && status != oci::Status::Created) {
      throw Error("cannot delete container " + id +
                  " that is not stopped: " + oci::toString(status));
    }
    stopNow(record);
  }
  try {
    runHooks(hooksFromJson(record.hooks, "poststop"), "poststop", record.ociState());
  } catch (const Error& e) {
    log::warn(e.message());
  }
  destroyResources(record);
  reapQuietly(reaperScope(false));
}

ReaperScope Runtime::reaperScope(bool askLibvirt) const {
  return {config_.vmDir, config_.libvirtUri, connect_, askLibvirt};
}

Runtime::Reaped Runtime::collectGarbage(bool dryRun) {
  ReaperScope scope = reaperScope(true);
  Reaped reaped;
  reaped.orphans = findOrphans(scope);
  if (!dryRun) reaped.failures = reapOrphans(scope, reaped.orphans);
  return reaped;
}

void Runtime::destroyResources(const ContainerRecord& record) {
  std::string errors;
  std::string timings;
  try {
    tearDownVm({record.domainName, record.vmDir, record.taps}, connect_, config_.libvirtUri,
               &timings);
  } catch (const Error& e) {
    errors = e.message();
  }
  try {
    store_.remove(record.id);
  } catch (const Error& e) {
    errors += std::string(errors.empty() ? "" : "; ") + "remove state: " + e.message();
  }
  log::debug("phase teardown: " + timings);
  if (!errors.empty()) throw Error(errors);
}

void Runtime::pause(const std::string& id) {
  StateLock lock = store_.lock(id);
  ContainerRecord record = store_.load(id);
  if (record.effectiveStatus() != oci::Status::Running)
    throw Error("container not running", ErrorKind::NotRunning);
  connect_(config_.libvirtUri)->suspend(record.domainName);
  record.status = oci::Status::Paused;
  store_.save(record);
}

void Runtime::resume(const std::string& id) {
  StateLock lock = store_.lock(id);
  ContainerRecord record = store_.load(id);
  if (record.effectiveStatus() != oci::Status::Paused) throw Error("container not paused");
  connect_(config_.libvirtUri)->resume(record.domainName);
  record.status = oci::Status::Running;
  store_.save(record);
}

std::vector<int> Runtime::processes(const std::string& id) {
  ContainerRecord record = store_.load(id);
  if (record.effectiveStatus() == oci::Status::Stopped) return {};
  control::Reply reply = control::call(VmPaths{record.vmDir}.controlSocket(),
                                       control::ListHostPids{}, kControlTimeout);
  auto* pids = std::get_if<control::HostPids>(&reply);
  if (!pids)
    throw Error("unexpected " + quote(control::typeName(reply)) + " reply to list_host_pids");
  return pids->pids;
}

}  // namespace runvirt::backend

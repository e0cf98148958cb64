#include "container_setup.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "child.hpp"
#include "file_util.hpp"
#include "mount_plan.hpp"
#include "devices.hpp"
#include "mounts.hpp"
#include "process_start.hpp"
#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"
#include "sync_channel.hpp"
#include "syscalls.hpp"

namespace runvirt::agent {

namespace {

struct Step {
  const char* name;
  std::function<void()> run;
  // Errors already worded like runc's (user, cwd, executable): passed through unchanged,
  // because clients match on those texts.
  bool runcWording = false;
};

void runSteps(const std::vector<Step>& steps) {
  for (const auto& step : steps) {
    try {
      step.run();
    } catch (Error& e) {
      if (!step.runcWording) e.wrap(step.name);
      throw;
    }
  }
}

bool hasNamespace(const ContainerSpec& spec, const std::string& name) {
  return std::find(spec.namespaces.begin(), spec.namespaces.end(), name) != spec.namespaces.end();
}

// What the init child builds up while it prepares the container.
struct InitState {
  UniqueFd shareFd;
  UniqueFd rootFd;
  PreparedProcess prepared;
};

void bindRootfs(const ContainerSpec& spec, const std::string& rootPath, InitState& state) {
  state.shareFd = UniqueFd(::open(kShareDir, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!state.shareFd) throwErrno(std::string("open share ") + quote(kShareDir));
  UniqueFd rootfs =
      sys::openInRoot(state.shareFd.get(), spec.rootfs, O_PATH | O_DIRECTORY, "the share");
  sys::bindMount(fdPath(rootfs.get()), rootPath, MS_REC, "share/" + spec.rootfs, rootPath);
  state.rootFd = UniqueFd(::open(rootPath.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!state.rootFd) throwErrno("open container root " + quote(rootPath));
}

// runc's pivot_root(".", "."): the old root ends up under the new one and is detached, so
// nothing of the agent's tree stays reachable from the container.
void pivotInto(const std::string& rootPath) {
  UniqueFd oldRoot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  UniqueFd newRoot(::open(rootPath.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!oldRoot || !newRoot) throwErrno("open old and new root");
  if (::fchdir(newRoot.get()) != 0) throwErrno("chdir to the new root");
  sys::pivotRoot(".", ".");
  if (::fchdir(oldRoot.get()) != 0) throwErrno("chdir to the old root");
  sys::setPropagation(".", MS_SLAVE | MS_REC, "old root");
  sys::unmount(".", MNT_DETACH);
  if (::chdir("/") != 0) throwErrno("chdir /");
}

void setNames(const ContainerSpec& spec) {
  if (!hasNamespace(spec, "uts")) return;  // the VM's names are not the container's to change
  if (!spec.hostname.empty()) sys::setHostname(spec.hostname);
  if (!spec.domainname.empty()) sys::setDomainname(spec.domainname);
}

void applySysctls(const ContainerSpec& spec) {
  for (const auto& [key, value] : spec.sysctl) {
    std::string relative = key;
    std::replace(relative.begin(), relative.end(), '.', '/');
    withContext("sysctl " + quote(key), [&] { writeFile("/proc/sys/" + relative, value); });
  }
}

void prepareContainer(const ContainerSpec& spec, const std::string& rootPath, InitState& state) {
  auto plan = planMounts(spec.mounts);
  runSteps({
      // runc's default rootfsPropagation: nothing mounted here propagates back to the agent.
      {"make mounts slaves", [] { sys::setPropagation("/", MS_SLAVE | MS_REC); }},
      {"bind the root filesystem", [&] { bindRootfs(spec, rootPath, state); }},
      {"set up mounts", [&] { mountAll(plan, state.rootFd.get(), state.shareFd.get()); }},
      {"populate /dev",
       [&] {
         if (needsDevPopulation(plan)) populateDev(state.rootFd.get(), spec.process.terminal);
       }},
      {"create devices", [&] { createDevices(state.rootFd.get(), spec.devices); }},
      {"pivot_root",
       [&] {
         state.rootFd.reset();
         state.shareFd.reset();
         pivotInto(rootPath);
       }},
      {"set hostname", [&] { setNames(spec); }},
      {"set sysctls", [&] { applySysctls(spec); }},
      {"make paths read-only",
       [&] {
         for (const auto& path : spec.readonlyPaths) makePathReadonly(path);
       }},
      {"mask paths",
       [&] {
         for (const auto& path : spec.maskedPaths) maskPath(path);
       }},
      {"make the root read-only",
       [&] {
         if (spec.readonlyRoot) remountRootReadonly();
       }},
      {"prepare process", [&] { state.prepared = prepareProcess(spec.process); }, true},
  });
}

// Blocks until the agent says Start; exits when the agent closes the channel instead.
void waitForStart(int syncFd) {
  for (;;) {
    auto message = receiveSync(syncFd);
    if (!message) _exit(0);
    if (message->kind == SyncKind::Start) return;
  }
}

void joinNamespaces(pid_t initPid) {
  // Opened before joining any: once in the container's mount namespace, /proc is the
  // container's. mnt is joined last, as it also moves root and cwd into the container.
  static constexpr std::pair<const char*, int> kNamespaces[] = {{"cgroup", CLONE_NEWCGROUP},
                                                                {"ipc", CLONE_NEWIPC},
                                                                {"uts", CLONE_NEWUTS},
                                                                {"pid", CLONE_NEWPID},
                                                                {"mnt", CLONE_NEWNS}};
  std::vector<std::pair<UniqueFd, std::string>> opened;
  for (const auto& [name, type] : kNamespaces) {
    std::string path = "/proc/" + std::to_string(initPid) + "/ns/" + name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throwErrno("open " + quote(path));
    opened.emplace_back(std::move(fd), path);
  }
  for (std::size_t i = 0; i < opened.size(); ++i) {
    sys::setNamespace(opened[i].first.get(), kNamespaces[i].second, opened[i].second);
  }
}

}  // namespace

unsigned long namespaceCloneFlags(const std::vector<std::string>& namespaces) {
  unsigned long flags = CLONE_NEWNS;
  for (const auto& name : namespaces) {
    if (name == "pid") flags |= CLONE_NEWPID;
    if (name == "uts") flags |= CLONE_NEWUTS;
    if (name == "ipc") flags |= CLONE_NEWIPC;
    if (name == "cgroup") flags |= CLONE_NEWCGROUP;
  }
  return flags;
}

void runContainerInit(const ContainerSpec& spec, const std::string& rootPath, int syncFd) {
  int sync = detachFromAgent(syncFd);
  InitState state;
  try {
    prepareContainer(spec, rootPath, state);
    sendSync(sync, SyncKind::Ready);
  } catch (const std::exception& e) {
    failChild(sync, e.what(), 1);
  }
  try {
    waitForStart(sync);
  } catch (...) {
    _exit(1);  // the agent is gone: nothing to start for
  }
  try {
    execProcess(spec.process, state.prepared, sync, /*bindConsole=*/true);
  } catch (const Error& e) {
    failChild(sync, e.what(), execFailureCode(e.errnum()));
  } catch (const std::exception& e) {
    failChild(sync, e.what(), 1);
  }
  _exit(1);  // execProcess returns only by throwing
}

void runExecHelper(pid_t initPid, const ProcessSpec& spec, int syncFd) {
  int sync = detachFromAgent(syncFd);
  pid_t pid = 0;
  try {
    withContext("join the container's namespaces", [&] { joinNamespaces(initPid); });
    pid = sys::cloneProcess(CLONE_PARENT);
  } catch (const std::exception& e) {
    failChild(sync, e.what(), 1);
  }
  if (pid > 0) {
    // Our pid namespace is still the agent's, so this is the pid the agent sees.
    try {
      sendSync(sync, SyncKind::Pid, std::to_string(pid));
    } catch (...) {
      ::kill(pid, SIGKILL);  // a process the agent cannot track must not run
    }
    _exit(0);
  }
  try {
    PreparedProcess prepared = prepareProcess(spec);
    execProcess(spec, prepared, sync, /*bindConsole=*/false);
  } catch (const Error& e) {
    failChild(sync, e.what(), execFailureCode(e.errnum()));
  } catch (const std::exception& e) {
    failChild(sync, e.what(), 1);
  }
  _exit(1);
}

}  // namespace runvirt::agent

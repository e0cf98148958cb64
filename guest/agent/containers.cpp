#include "containers.hpp"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "container_setup.hpp"
#include "log.hpp"
#include "replies.hpp"
#include "runvirt/error.hpp"
#include "syscalls.hpp"

namespace runvirt::agent {

namespace {

void validateId(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos ||
      id.size() > 1024) {
    throw Error("invalid container id " + quote(id), ErrorKind::InvalidArgument);
  }
}

void makeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throwErrno("mkdir " + quote(path));
}

NamespaceId namespaceOf(pid_t pid, const char* type) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throwErrno("stat " + quote(path));
  return {st.st_dev, st.st_ino};
}

std::string describeState(Container::State state) {
  switch (state) {
    case Container::State::Creating:
      return "being created";
    case Container::State::Created:
      return "created";
    case Container::State::Starting:
      return "starting";
    case Container::State::Running:
      return "running";
    case Container::State::Stopped:
      return "stopped";
  }
  return "unknown";
}

// The container's mounts live in its own mount namespace; in the agent's only the
// directories remain.
void removeDirectories(const Container& container) {
  for (const std::string& dir : {container.dir + "/root", container.dir}) {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
      log::warn("remove %s: %s", dir.c_str(), std::strerror(errno));
    }
  }
}

}  // namespace

Container& ContainerManager::get(const std::string& id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    throw Error("container " + quote(id) + " does not exist", ErrorKind::NotFound);
  }
  return it->second;
}

// ProcessId 0 is "the" init of the VM, so one container at a time; one whose init exited
// and whose exit was reported is forgotten when the next is created.
Container& ContainerManager::prepareNewContainer(const std::string& id) {
  validateId(id);
  for (auto& [otherId, other] : containers_) {
    ProcessRecord* init = processes_.find(kInitProcess);
    bool done = other.state == Container::State::Stopped && (!init || init->finished);
    if (done) continue;
    if (otherId == id)
      throw Error("container " + quote(id) + " already exists", ErrorKind::AlreadyExists);
    throw Error("container " + quote(otherId) + " already runs in this VM",
                ErrorKind::AlreadyExists);
  }
  while (!containers_.empty()) {
    for (ProcessId process : processes_.idsOfContainer(containers_.begin()->first)) {
      processes_.remove(process);
    }
    removeContainer(containers_.begin()->first);
  }
  Container& container = containers_[id];
  container.id = id;
  container.dir = std::string(kContainersDir) + "/" + id;
  makeDirectory("/run/runvirt");
  makeDirectory(kContainersDir);
  makeDirectory(container.dir);
  makeDirectory(container.dir + "/root");
  return container;
}

void ContainerManager::create(std::uint64_t requestId, const ContainerSpec& spec) {
  Container& container = prepareNewContainer(spec.id);
  pid_t pid = 0;
  try {
    container.cgroup = withContext("set up the container's cgroup", [&] {
      return ContainerCgroup::create(planContainerCgroup(spec.id, spec.resources));
    });
    auto [agentEnd, childEnd] = makeSyncPair();
    // Always a cgroup namespace rooted at the container's cgroup, whatever the spec says: the
    // VM's "host" cgroup namespace is the agent's, which holds nothing of the user's. The
    // container sees what Docker shows by default on a cgroup v2 host (0::/ and its own limits).
    pid = sys::cloneProcess(namespaceCloneFlags(spec.namespaces) | CLONE_NEWCGROUP,
                            container.cgroup.fd());
    if (pid == 0) runContainerInit(spec, container.dir + "/root", childEnd.get());
    container.initPid = pid;
    container.initSync = std::move(agentEnd);
    bool ownPid = std::count(spec.namespaces.begin(), spec.namespaces.end(), "pid") > 0;
    container.memberNamespace = ownPid ? "pid" : "mnt";
    container.members = namespaceOf(pid, container.memberNamespace);
    ProcessRecord& init = processes_.add(kInitProcess, spec.id);
    init.pid = pid;
    init.launching = true;
  } catch (Error&) {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    processes_.remove(kInitProcess);
    removeContainer(spec.id);
    throw;
  }
  Launch launch;
  launch.kind = Launch::Kind::Create;
  launch.requestId = requestId;
  launch.container = spec.id;
  launch.syncFd = container.initSync.get();
  watch(std::move(launch));
}

void ContainerManager::start(std::uint64_t requestId, const std::string& id) {
  Container& container = get(id);
  if (container.state != Container::State::Created) {
    throw Error(
        "container " + quote(id) + " is " + describeState(container.state) + ", not created",
        ErrorKind::InvalidArgument);
  }
  ProcessRecord* init = processes_.find(kInitProcess);
  if (!init || init->exited())
    throw Error("container " + quote(id) + " init has exited", ErrorKind::NotRunning);
  sendSync(container.initSync.get(), SyncKind::Start);
  container.state = Container::State::Starting;
  init->launching = true;
  Launch launch;
  launch.kind = Launch::Kind::Start;
  launch.requestId = requestId;
  launch.container = id;
  launch.syncFd = container.initSync.get();
  watch(std::move(launch));
}

void ContainerManager::exec(std::uint64_t requestId, const ExecProcess& request) {
  Container& container = get(request.container);
  if (container.state != Container::State::Running &&
      container.state != Container::State::Created) {
    throw Error("cannot exec in container " + quote(request.container) + ": it is " +
                    describeState(container.state),
                ErrorKind::NotRunning);
  }
  if (request.process == kInitProcess)
    throw Error("process 0 is the container's init", ErrorKind::InvalidArgument);
  ProcessRecord& record = processes_.add(request.process, request.container);
  record.launching = true;
  Launch launch;
  launch.kind = Launch::Kind::Exec;
  launch.requestId = requestId;
  launch.container = request.container;
  launch.process = request.process;
  try {
    auto [agentEnd, childEnd] = makeSyncPair();
    pid_t helper = sys::cloneProcess(0, container.cgroup.fd());  // its child inherits the cgroup
    if (helper == 0) runExecHelper(container.initPid, request.spec, childEnd.get());
    launch.ownedSync = std::move(agentEnd);
  } catch (Error&) {
    processes_.remove(request.process);
    throw;
  }
  launch.syncFd = launch.ownedSync.get();
  watch(std::move(launch));
}

void ContainerManager::watch(Launch launch) { launches_.emplace(nextLaunch_++, std::move(launch)); }

void ContainerManager::addToPoll(PollSet& set) {
  for (auto& [key, launch] : launches_) {
    std::uint64_t k = key;
    set.add(launch.syncFd, POLLIN, [this, k](short) { onLaunchReadable(k); });
  }
}

void ContainerManager::onLaunchReadable(std::uint64_t key) {
  auto it = launches_.find(key);
  if (it == launches_.end()) return;
  Launch& launch = it->second;
  for (;;) {  // drain, so an exec'd process's pid is known before its exit is reaped
    bool wouldBlock = false;
    std::optional<SyncMessage> message;
    try {
      message = receiveSync(launch.syncFd, /*dontWait=*/true, &wouldBlock);
    } catch (const Error& e) {
      if (launch.error.empty()) launch.error = e.what();
    }
    if (wouldBlock) return;
    if (!message) {
      onEndOfFile(launch);
      launches_.erase(key);
      return;
    }
    if (message->kind == SyncKind::Ready) {
      if (onReady(launch)) launches_.erase(key);
      return;
    }
    takeMessage(launch, *message);
  }
}

void ContainerManager::takeMessage(Launch& launch, SyncMessage& message) {
  switch (message.kind) {
    case SyncKind::Error:
      if (launch.error.empty()) launch.error = message.text;
      break;
    case SyncKind::Stdio:
      processes_.attachStdio(launch.process, message.text == "pty", std::move(message.fds));
      launch.gotStdio = true;
      break;
    case SyncKind::Pid:
      processes_.setPid(launch.process, pid_t(std::atoi(message.text.c_str())));
      launch.gotPid = true;
      break;
    default:
      log::warn("unexpected sync message %c from a child", char(message.kind));
  }
}

bool ContainerManager::onReady(Launch& launch) {
  if (launch.kind != Launch::Kind::Create) return false;
  Container& container = get(launch.container);
  container.state = Container::State::Created;
  ProcessRecord* init = processes_.find(kInitProcess);
  init->launching = false;
  init->reportExit = true;  // from now on the host knows the init and awaits its exit
  respond_(okReply(launch.requestId));
  return true;
}

void ContainerManager::onEndOfFile(Launch& launch) {
  switch (launch.kind) {
    case Launch::Kind::Create:
      failCreate(launch,
                 launch.error.empty() ? "container init exited during setup" : launch.error);
      return;
    case Launch::Kind::Start:
      finishStart(launch);
      return;
    case Launch::Kind::Exec:
      finishExec(launch);
      return;
  }
}

// The init exec'd (success) or reported why it could not. Either way the host knows the
// init since create, so its exit event follows.
void ContainerManager::finishStart(Launch& launch) {
  Container& container = get(launch.container);
  container.initSync.reset();
  if (ProcessRecord* init = processes_.find(kInitProcess)) init->launching = false;
  if (!launch.error.empty() || !launch.gotStdio) {
    respond_(errorReply(launch.requestId,
                        launch.error.empty() ? "container init exited before exec" : launch.error));
    return;
  }
  container.state = Container::State::Running;
  respond_(okReply(launch.requestId, container.initPid));
}

// A process that failed to exec was never reported to the host: no exit event for it.
void ContainerManager::finishExec(Launch& launch) {
  ProcessRecord* record = processes_.find(launch.process);
  if (!launch.error.empty() || !launch.gotPid || !launch.gotStdio || !record) {
    processes_.remove(launch.process);
    respond_(errorReply(launch.requestId,
                        launch.error.empty() ? "process exited before exec" : launch.error));
    return;
  }
  record->launching = false;
  record->reportExit = true;
  respond_(okReply(launch.requestId, record->pid));
}

// The init never got to Ready: answer with its error, make sure it is gone, and leave
// nothing behind so the next create can work.
void ContainerManager::failCreate(Launch& launch, const std::string& error) {
  Container& container = get(launch.container);
  ::kill(container.initPid, SIGKILL);
  ::waitpid(container.initPid, nullptr, 0);
  processes_.remove(kInitProcess);
  removeContainer(launch.container);
  respond_(errorReply(launch.requestId, error));
}

void ContainerManager::removeContainer(const std::string& id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  removeDirectories(it->second);
  it->second.cgroup.remove();
  containers_.erase(it);
}

void ContainerManager::onProcessExited(ProcessId id) {
  if (id != kInitProcess) return;
  ProcessRecord* init = processes_.find(kInitProcess);
  if (!init) return;
  auto it = containers_.find(init->container);
  if (it == containers_.end() || it->second.state == Container::State::Creating) return;
  Container& container = it->second;
  container.state = Container::State::Stopped;
  container.initSync.reset();
  removeDirectories(container);
}

std::vector<int> ContainerManager::pidsOf(const Container& container) const {
  std::vector<int> pids;
  DIR* proc = ::opendir("/proc");
  if (!proc) throwErrno("open /proc");
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 1) continue;  // not a process, or the agent itself
    std::string path = "/proc/" + std::string(entry->d_name) + "/ns/" + container.memberNamespace;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;  // exited meanwhile
    if (NamespaceId{st.st_dev, st.st_ino} == container.members) pids.push_back(int(pid));
  }
  ::closedir(proc);
  std::sort(pids.begin(), pids.end());
  return pids;
}

}  // namespace runvirt::agent

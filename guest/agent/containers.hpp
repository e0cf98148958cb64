// The agent's side of containers: create/start/exec start a child (container_setup.cpp) and
// answer when its sync channel reports, so the poll loop keeps relaying output meanwhile.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cgroup.hpp"
#include "poll_set.hpp"
#include "process_table.hpp"
#include "runvirt/agent/protocol.hpp"
#include "runvirt/unique_fd.hpp"
#include "sync_channel.hpp"

namespace runvirt::agent {

// A namespace as the kernel identifies it (the inode of /proc/<pid>/ns/<type>).
struct NamespaceId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const NamespaceId&) const = default;
};

struct Container {
  enum class State { Creating, Created, Starting, Running, Stopped };
  std::string id;
  std::string dir;  // kContainersDir/<id>; the root is dir/root
  pid_t initPid = 0;
  UniqueFd initSync;  // to the parked init, until it execs
  State state = State::Creating;
  // Processes in this namespace belong to the container: its pid namespace when it has one,
  // else its mount namespace.
  NamespaceId members;
  const char* memberNamespace = "mnt";
  ContainerCgroup cgroup;  // every process of the container is cloned into it
};

// A child being set up, answered when its sync channel reports.
struct Launch {
  enum class Kind { Create, Start, Exec };
  Kind kind = Kind::Create;
  std::uint64_t requestId = 0;
  std::string container;
  ProcessId process = kInitProcess;
  UniqueFd ownedSync;  // Exec: the helper's channel. Create/Start use the container's.
  int syncFd = -1;
  std::string error;
  bool gotStdio = false;
  bool gotPid = false;
};

class ContainerManager {
 public:
  using Responder = std::function<void(const Response&)>;
  ContainerManager(ProcessTable& processes, Responder respond)
      : processes_(processes), respond_(std::move(respond)) {}

  // Each throws Error for a request that cannot start; otherwise it answers through the
  // responder once the child reported.
  void create(std::uint64_t requestId, const ContainerSpec& spec);
  void start(std::uint64_t requestId, const std::string& id);
  void exec(std::uint64_t requestId, const ExecProcess& request);

  // Throws NotFound.
  Container& get(const std::string& id);
  // Guest pids of every process in the container (scans /proc).
  std::vector<int> pidsOf(const Container& container) const;
  // Called for every reaped process; the init's exit stops its container.
  void onProcessExited(ProcessId id);
  void addToPoll(PollSet& set);

 private:
  Container& prepareNewContainer(const std::string& id);
  void watch(Launch launch);
  void onLaunchReadable(std::uint64_t key);
  void takeMessage(Launch& launch, SyncMessage& message);
  // Answers the request; false keeps watching the channel.
  bool onReady(Launch& launch);
  void onEndOfFile(Launch& launch);
  void finishStart(Launch& launch);
  void finishExec(Launch& launch);
  void failCreate(Launch& launch, const std::string& error);
  void removeContainer(const std::string& id);

  ProcessTable& processes_;
  Responder respond_;
  std::map<std::string, Container> containers_;
  std::map<std::uint64_t, Launch> launches_;
  std::uint64_t nextLaunch_ = 1;
};

}  // namespace runvirt::agent

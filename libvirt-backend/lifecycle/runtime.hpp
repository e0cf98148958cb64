// The containers under one --root: what each CLI verb does, with runc's semantics and wording.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "vm/hypervisor.hpp"
#include "common/runtime_config.hpp"
#include "state/state_store.hpp"
#include "teardown/reaper.hpp"
#include "runvirt/oci/spec.hpp"
#include "runvirt/oci/state.hpp"

namespace runvirt::backend {

struct CreateOptions {
  std::string id;
  std::string bundle;         // default: the current directory
  std::string pidFile;        // written last, when the container is created
  std::string consoleSocket;  // with process.terminal: where the pty master goes
};

struct ExecOptions {
  std::string id;
  oci::Process process;
  std::string pidFile;        // the exec monitor's pid, written once the process runs
  std::string consoleSocket;  // with process.terminal
  bool detach = false;
};

class Runtime {
 public:
  // `globalArgs` are the global flags a monitor inherits (--log, --log-format, --debug, --config).
  Runtime(std::string root, std::string configPath, std::vector<std::string> globalArgs,
          HypervisorFactory connect = connectLibvirt);

  // Returns the monitor's pid once the container is created (VM booted, process not started).
  pid_t create(const CreateOptions& options);
  void start(const std::string& id);
  // create + start; unless `detach`, waits for the workload, forwarding signals to it, deletes
  // the container (unless `keep`) and returns its exit status (128+N when killed by signal N).
  int run(const CreateOptions& options, bool detach, bool keep);
  // Runs one more process in the container. Unless `detach`, waits for it (forwarding signals)
  // and returns its exit status.
  int exec(const ExecOptions& options);
  // The container's own process (from its bundle): what `exec` without --process starts from.
  oci::Process containerProcess(const std::string& id) const;
  oci::State state(const std::string& id) const;
  std::vector<oci::State> list() const;
  void kill(const std::string& id, int signal, bool all);
  void remove(const std::string& id, bool force);
  void pause(const std::string& id);
  void resume(const std::string& id);
  // VMs whose owner is gone (teardown/reaper.hpp), among the VM directories and, with
  // `askLibvirt`, libvirt's domains; reaped unless `dryRun`. Returns them with what failed.
  struct Reaped {
    std::vector<Orphan> orphans;
    std::vector<std::string> failures;
  };
  Reaped collectGarbage(bool dryRun);

  // Host pids that stand for the container's processes (its monitor and exec monitors), as
  // `runc ps --format json` gives host pids for `docker top`.
  std::vector<int> processes(const std::string& id);

  const StateStore& store() const { return store_; }

 private:
  ReaperScope reaperScope(bool askLibvirt) const;
  pid_t spawnMonitor(const CreateOptions& options, int reportFd);
  std::string cleanUpFailedCreate(const ContainerRecord& record) noexcept;
  void destroyResources(const ContainerRecord& record);
  void stopNow(const ContainerRecord& record);

  StateStore store_;
  std::string configPath_;
  RuntimeConfig config_;
  std::vector<std::string> globalArgs_;
  HypervisorFactory connect_;
};

}  // namespace runvirt::backend

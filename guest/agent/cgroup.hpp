// The container's cgroup in the guest: cgroup v2 with the memory and pids controllers, so
// `docker run -m` and `--pids-limit` act inside the VM as runc makes them act on the host (an
// allocation beyond the limit OOM-kills a process of the container, exit 137; a fork beyond it
// fails with EAGAIN). The VM is sized limit + overhead (vm_config.cpp), and the agent stays in
// the root cgroup, outside the limit, so the container can never starve it.
//
// Layout: cgroup2 mounted at kCgroupMount in the agent's mount namespace only (the container's
// root is pivoted away from it), and one directory per container under kContainersCgroup.
// The container's processes are born in it (clone3 CLONE_INTO_CGROUP), never moved there.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

inline constexpr const char* kCgroupMount = "/sys/fs/cgroup";
inline constexpr const char* kContainersCgroup = "containers";

struct CgroupFile {
  std::string name;       // e.g. "memory.max"
  std::string value;      // e.g. "67108864" or "max"
  bool optional = false;  // skipped when the kernel has no such file (e.g. memory.swap.max)
};

// What the agent creates and writes for one container, decided without touching the system.
struct CgroupPlan {
  std::string dir;  // relative to the cgroup2 root: "containers/<id>"
  // Enabled in the cgroup.subtree_control of the root and of kContainersCgroup, so the
  // container's directory gets them. Only the ones the kernel offers are enabled; a limit whose
  // controller is missing then fails when its file is written.
  std::vector<std::string> controllers;
  std::vector<CgroupFile> files;  // written in `dir`, in this order
  // vm.overcommit_memory for the whole guest, empty = leave it. With a memory limit: "1", so
  // that, as on a big host, an allocation larger than the (small) VM succeeds and the cgroup's
  // OOM killer stops it (exit 137); the kernel's default heuristic would refuse it outright
  // (ENOMEM, "out of memory" and exit 1) because it exceeds the guest's RAM.
  std::string overcommitMemory;
};

// Every value is written, "max" when unlimited, so a directory left over by an earlier
// container of the same id gets this container's limits.
CgroupPlan planContainerCgroup(const std::string& id, const Resources& resources);

// A container's cgroup directory, held open for clone3(CLONE_INTO_CGROUP).
class ContainerCgroup {
 public:
  ContainerCgroup() = default;

  // Creates the plan's directories under `root`, enables the controllers on the way and writes
  // the files. With the default root, first mounts cgroup2 there unless it already is (the first
  // create of the VM) and applies overcommitMemory; any other root is used as it is (tests).
  // Throws Error naming the file that could not be written.
  static ContainerCgroup create(const CgroupPlan& plan, const std::string& root = kCgroupMount);

  // -1 when there is no cgroup (a default-constructed or removed one).
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  explicit operator bool() const { return bool(fd_); }

  // Moves the process `pid` (0 = the caller) and its threads into this cgroup. For a process
  // that was not cloned into it; prefer sys::cloneProcess(flags, fd()).
  void addProcess(pid_t pid) const;

  // rmdir once the container's processes are gone; logs (does not throw) when some remain.
  void remove();

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace runvirt::agent

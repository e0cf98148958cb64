// Host accounting of a container's VM. containerd's shim finds a container's cgroup through
// /proc/<pid>/cgroup of the pid in --pid-file (our monitor) and reads `docker stats` and OOM
// events from there. So the monitor, QEMU and virtiofsd of the container's VM join the cgroup the
// spec names (linux.cgroupsPath), created as runc creates it, in every mounted hierarchy: each
// cgroup v1 hierarchy, and the cgroup2 one (the only one on a pure v2 host, the controller-less
// `unified` one on a hybrid host, which runc joins too).
//
// No limit is written on the host: the spec's limits are the container's and are enforced in
// the guest (guest/agent/cgroup.hpp). Here they would hit the wrong processes: QEMU holds the
// whole guest RAM (limit + overhead) plus its own ~150 MB, so the container's memory limit
// would OOM-kill the VM; QEMU's threads alone would exceed a pids limit; the spec's device
// rules would deny QEMU its devices; a CPU quota would throttle the guest kernel's boot.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "state/state_store.hpp"
#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

// One mounted cgroup hierarchy, from a line of /proc/self/mountinfo.
struct CgroupHierarchy {
  std::string mountPoint;  // "/sys/fs/cgroup/memory"
  std::string root;        // the cgroup mounted there: "/" on a host, a subtree in a container
  bool unified = false;    // cgroup2
  // cgroup v1: the super options that name the hierarchy ("cpu", "cpuacct", "name=systemd"),
  // without "rw"/"ro". Empty for cgroup2.
  std::vector<std::string> controllers;

  bool has(const std::string& controller) const;
};

// The first mount of every cgroup hierarchy in `mountinfo` (later mounts of the same
// hierarchy, e.g. bind mounts, are skipped).
std::vector<CgroupHierarchy> parseCgroupHierarchies(const std::string& mountinfo);

// One line of /proc/<pid>/cgroup.
struct ProcessCgroup {
  std::vector<std::string> controllers;  // "cpu", "name=systemd"; empty for the cgroup2 line
  std::string path;                      // "/docker/<id>"
};
std::vector<ProcessCgroup> parseProcessCgroups(const std::string& text);

// The container's cgroup, from linux.cgroupsPath.
struct CgroupsPath {
  std::string path;       // "/docker/<id>", or "<a>/<b>" when relative
  bool relative = false;  // below the runtime's own cgroup in each hierarchy (runc's meaning)
};

// "/docker/<id>" (cgroupfs form) is taken as it is. The systemd form "slice:prefix:name" is
// converted to the directory systemd would give that unit, e.g. "system.slice:docker:<id>" ->
// "/system.slice/docker-<id>.scope" and "a-b.slice:p:n" -> "/a.slice/a-b.slice/p-n.scope";
// no scope is registered with systemd (no D-Bus here), the directory is created as in cgroupfs
// mode. std::nullopt for an empty path: no host cgroup. Throws InvalidArgument for a path with
// ".." or a malformed systemd form.
std::optional<CgroupsPath> parseCgroupsPath(const std::string& cgroupsPath);

// One directory to create and join.
struct CgroupDirectory {
  std::string path;        // "/sys/fs/cgroup/memory/docker/<id>"
  std::string mountPoint;  // the hierarchy's mount point; directories are created below it
  bool cpuset = false;     // new levels need cpuset.cpus/mems from their parent before tasks
  bool unified = false;    // cgroup2: every level enables the controllers its parent offers
};

// One directory per hierarchy. A relative path is placed below `own` (the caller's
// /proc/self/cgroup) in each hierarchy; a hierarchy with no line in `own` is then skipped.
std::vector<CgroupDirectory> planCgroupDirectories(const std::vector<CgroupHierarchy>& hierarchies,
                                                   const CgroupsPath& path,
                                                   const std::vector<ProcessCgroup>& own);

// Called by the monitor right after its domain started: creates the container's cgroup in every
// hierarchy and moves the monitor (the caller), QEMU and virtiofsd into it. The directories are
// recorded in <vmDir>/cgroups for removeContainerCgroup. Nothing happens when the spec has no
// cgroupsPath. Memory QEMU allocated before the move stays charged where libvirt put it
// (memory.move_charge_at_immigrate is gone from recent kernels): its start-up and the guest
// kernel and initrd images, a few tens of MB.
// `vmPids` gives the VM's host processes (vm_processes.hpp), asked only when there is a cgroup.
void placeVmInContainerCgroup(const oci::Spec& spec, const ContainerRecord& record,
                              const std::function<std::vector<pid_t>()>& vmPids);

// Adds `pid` (e.g. an exec's monitor) to the container's recorded cgroups. No-op when none.
void addToContainerCgroup(const std::string& vmDir, pid_t pid);

// `delete`: removes the directories recorded in <vmDir>/cgroups (not their parents, as runc),
// waiting a little for the VM's processes to finish exiting. Call it after the domain is
// destroyed and before <vmDir> is removed. Throws, naming the processes that remain.
void removeContainerCgroup(const std::string& vmDir);

}  // namespace runvirt::backend

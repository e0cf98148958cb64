// The only place with raw privileged system calls (mount, pivot_root, setns, clone, execve,
// seccomp, capset, finit_module, ...). Each wrapper checks the result and throws
// runvirt::Error naming the call and its arguments, so callers read as plain steps.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runvirt/in_root.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent::sys {

// mount(2) in its four uses. `shown*` name source and target in errors (callers often pass
// /proc/self/fd/N paths); empty = the path itself.
void mountFilesystem(const std::string& source, const std::string& target, const std::string& type,
                     unsigned long flags, const std::string& data,
                     const std::string& shownTarget = {});
void bindMount(const std::string& source, const std::string& target, unsigned long flags,
               const std::string& shownSource = {}, const std::string& shownTarget = {});
// MS_REMOUNT | flags (add MS_BIND to change only this mount's flags).
void remount(const std::string& target, unsigned long flags, const std::string& shownTarget = {});
void setPropagation(const std::string& target, unsigned long propagation,
                    const std::string& shownTarget = {});
void moveMount(const std::string& source, const std::string& target);
void unmount(const std::string& target, int flags);
void pivotRoot(const std::string& newRoot, const std::string& putOld);
void changeRoot(const std::string& path);
void setNamespace(int fd, int nstype, const std::string& shownPath);
// clone(2) without a new stack: returns like fork(), 0 in the child. With `cgroupFd` (an open
// cgroup2 directory) the child is born in that cgroup (clone3 CLONE_INTO_CGROUP), and a new
// cgroup namespace asked for in `flags` is rooted there.
pid_t cloneProcess(unsigned long flags, int cgroupFd = -1);
// Returns only by throwing (with errnum() set to execve's errno).
void execute(const std::string& path, const std::vector<std::string>& argv,
             const std::vector<std::string>& env);
// `program` is an array of struct sock_filter (classic BPF).
void loadSeccompFilter(const std::string& program);
void setCapabilities(std::uint64_t effective, std::uint64_t permitted, std::uint64_t inheritable);
void dropBoundingCapability(int capability);
// False when the kernel refuses (runc only warns about ambient capabilities).
bool raiseAmbientCapability(int capability);
void setKeepCapabilities(bool keep);
void setNoNewPrivileges();
// False when the module is already loaded.
bool loadKernelModule(int fd, const std::string& name);
void setHostname(const std::string& name);
void setDomainname(const std::string& name);
void setGroups(const std::vector<gid_t>& groups);
void setGid(gid_t gid);
void setUid(uid_t uid);
void makeNode(int dirFd, const std::string& name, mode_t mode, dev_t device);
[[noreturn]] void rebootNow();

// runvirt/in_root.hpp: resolved as if `rootFd` were "/".
using ::runvirt::openInRoot;

}  // namespace runvirt::agent::sys

#include "syscalls.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <signal.h>

#include "runvirt/error.hpp"

namespace runvirt::agent::sys {

namespace {

std::string hex(unsigned long value) {
  char text[32];
  std::snprintf(text, sizeof text, "%#lx", value);
  return text;
}

const std::string& shown(const std::string& path, const std::string& shownPath) {
  return shownPath.empty() ? path : shownPath;
}

void callMount(const char* source, const std::string& target, const char* type, unsigned long flags,
               const char* data, const std::string& description) {
  if (::mount(source, target.c_str(), type, flags, data) != 0) throwErrno(description);
}

std::vector<char*> cStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const auto& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

void mountFilesystem(const std::string& source, const std::string& target, const std::string& type,
                     unsigned long flags, const std::string& data, const std::string& shownTarget) {
  // PRIVILEGED: builds the container's filesystem tree (CAP_SYS_ADMIN).
  std::string description = "mount " + quote(source) + " on " + quote(shown(target, shownTarget)) +
                            " (type " + quote(type);
  if (flags) description += ", flags " + hex(flags);
  if (!data.empty()) description += ", data " + quote(data);
  callMount(source.c_str(), target, type.c_str(), flags, data.empty() ? nullptr : data.c_str(),
            description + ")");
}

void bindMount(const std::string& source, const std::string& target, unsigned long flags,
               const std::string& shownSource, const std::string& shownTarget) {
  // PRIVILEGED: makes share directories and files visible in the container.
  callMount(
      source.c_str(), target, nullptr, MS_BIND | flags, nullptr,
      "bind " + quote(shown(source, shownSource)) + " on " + quote(shown(target, shownTarget)));
}

void remount(const std::string& target, unsigned long flags, const std::string& shownTarget) {
  // PRIVILEGED: applies read-only and other per-mount flags.
  callMount(nullptr, target, nullptr, MS_REMOUNT | flags, nullptr,
            "remount " + quote(shown(target, shownTarget)) + " with flags " + hex(flags));
}

void setPropagation(const std::string& target, unsigned long propagation,
                    const std::string& shownTarget) {
  // PRIVILEGED: keeps container mounts from propagating back to the agent (and vice versa).
  callMount(nullptr, target, nullptr, propagation, nullptr,
            "set propagation " + hex(propagation) + " on " + quote(shown(target, shownTarget)));
}

void moveMount(const std::string& source, const std::string& target) {
  // PRIVILEGED: moves the agent's root bind over the initramfs root (see boot.cpp).
  callMount(source.c_str(), target, nullptr, MS_MOVE, nullptr,
            "move mount " + quote(source) + " to " + quote(target));
}

void unmount(const std::string& target, int flags) {
  // PRIVILEGED: detaches the agent's tree from the container's mount namespace.
  if (::umount2(target.c_str(), flags) != 0) throwErrno("unmount " + quote(target));
}

void pivotRoot(const std::string& newRoot, const std::string& putOld) {
  // PRIVILEGED: makes the container root the root of its mount namespace.
  if (::syscall(SYS_pivot_root, newRoot.c_str(), putOld.c_str()) != 0) {
    throwErrno("pivot_root " + quote(newRoot) + " " + quote(putOld));
  }
}

void changeRoot(const std::string& path) {
  // PRIVILEGED: moves the agent's root onto a mount that has a parent (see boot.cpp).
  if (::chroot(path.c_str()) != 0) throwErrno("chroot " + quote(path));
}

void setNamespace(int fd, int nstype, const std::string& shownPath) {
  // PRIVILEGED: enters a container's namespaces for an exec'd process.
  if (::setns(fd, nstype) != 0) throwErrno("setns " + quote(shownPath));
}

pid_t cloneProcess(unsigned long flags, int cgroupFd) {
  // PRIVILEGED: creates a process in new namespaces. Without CLONE_VM and with no new stack,
  // clone returns twice like fork(), which is what glibc's fork does.
  if (cgroupFd < 0) {
    long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid < 0) throwErrno("clone with flags " + hex(flags));
    return pid_t(pid);
  }
  // clone3 charges the child to the cgroup from its first page and roots a CLONE_NEWCGROUP
  // namespace there: nothing of the child ever runs outside the container's limits.
  clone_args args{};
  args.flags = flags | CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = std::uint64_t(cgroupFd);
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) throwErrno("clone3 into a cgroup with flags " + hex(flags));
  return pid_t(pid);
}

void execute(const std::string& path, const std::vector<std::string>& argv,
             const std::vector<std::string>& env) {
  // PRIVILEGED: the last step of a container process; replaces the agent's code.
  auto args = cStrings(argv);
  auto envp = cStrings(env);
  ::execve(path.c_str(), args.data(), envp.data());
  throwErrno("execve " + quote(path));
}

void loadSeccompFilter(const std::string& program) {
  // PRIVILEGED: installs the container's seccomp policy (needs no_new_privs or CAP_SYS_ADMIN).
  if (program.empty() || program.size() % sizeof(sock_filter) != 0 ||
      program.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
    throw Error("invalid seccomp program of " + std::to_string(program.size()) + " bytes",
                ErrorKind::InvalidArgument);
  }
  std::vector<sock_filter> filter(program.size() / sizeof(sock_filter));
  std::memcpy(filter.data(), program.data(), program.size());
  sock_fprog prog{static_cast<unsigned short>(filter.size()), filter.data()};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    throwErrno("seccomp(SECCOMP_SET_MODE_FILTER) with " + std::to_string(filter.size()) +
               " instructions");
  }
}

void setCapabilities(std::uint64_t effective, std::uint64_t permitted, std::uint64_t inheritable) {
  // PRIVILEGED: reduces the process's capabilities to the container's sets.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {
      {std::uint32_t(effective), std::uint32_t(permitted), std::uint32_t(inheritable)},
      {std::uint32_t(effective >> 32), std::uint32_t(permitted >> 32),
       std::uint32_t(inheritable >> 32)}};
  if (::syscall(SYS_capset, &header, data) != 0) {
    throwErrno("capset effective " + hex(effective) + " permitted " + hex(permitted) +
               " inheritable " + hex(inheritable));
  }
}

void dropBoundingCapability(int capability) {
  // PRIVILEGED: removes a capability from the bounding set for good.
  if (::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0) {
    throwErrno("prctl(PR_CAPBSET_DROP, " + std::to_string(capability) + ")");
  }
}

bool raiseAmbientCapability(int capability) {
  // PRIVILEGED: keeps a capability across execve for a non-root user.
  return ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability, 0, 0) == 0;
}

void setKeepCapabilities(bool keep) {
  // PRIVILEGED: keeps permitted capabilities while the uid changes from 0.
  if (::prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) != 0) throwErrno("prctl(PR_SET_KEEPCAPS)");
}

void setNoNewPrivileges() {
  // PRIVILEGED: forbids gaining privileges through setuid binaries or file capabilities.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throwErrno("prctl(PR_SET_NO_NEW_PRIVS)");
}

bool loadKernelModule(int fd, const std::string& name) {
  // PRIVILEGED: loads the virtio drivers at boot.
  if (::syscall(SYS_finit_module, fd, "", 0) == 0) return true;
  if (errno == EEXIST) return false;
  throwErrno("finit_module " + quote(name));
}

void setHostname(const std::string& name) {
  // PRIVILEGED: names the container's UTS namespace.
  if (::sethostname(name.data(), name.size()) != 0) throwErrno("sethostname " + quote(name));
}

void setDomainname(const std::string& name) {
  // PRIVILEGED: names the container's UTS namespace.
  if (::setdomainname(name.data(), name.size()) != 0) throwErrno("setdomainname " + quote(name));
}

void setGroups(const std::vector<gid_t>& groups) {
  // PRIVILEGED: sets the supplementary groups of the container process.
  if (::setgroups(groups.size(), groups.data()) != 0) {
    throwErrno("setgroups (" + std::to_string(groups.size()) + " groups)");
  }
}

void setGid(gid_t gid) {
  // PRIVILEGED: switches to the container user's group.
  if (::setresgid(gid, gid, gid) != 0) throwErrno("setresgid " + std::to_string(gid));
}

void setUid(uid_t uid) {
  // PRIVILEGED: switches to the container user.
  if (::setresuid(uid, uid, uid) != 0) throwErrno("setresuid " + std::to_string(uid));
}

void makeNode(int dirFd, const std::string& name, mode_t mode, dev_t device) {
  // PRIVILEGED: creates device nodes in the container's /dev (CAP_MKNOD).
  if (::mknodat(dirFd, name.c_str(), mode, device) != 0 && errno != EEXIST) {
    throwErrno("mknod " + quote(name));
  }
}

void rebootNow() {
  // PRIVILEGED: PID 1's only way out; the domain's on_reboot=destroy ends the VM.
  ::reboot(RB_AUTOBOOT);
  for (;;) ::pause();  // reboot(2) does not return when it works
}

}  // namespace runvirt::agent::sys

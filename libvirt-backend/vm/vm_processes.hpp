// The host processes of a running VM, as libvirt started them: QEMU (named by libvirt's pid
// file and its `-name guest=<domain>` argument) and the virtiofsd serving its share, with their
// descendants (virtiofsd's sandboxed worker).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace runvirt::backend {

// Where libvirt's QEMU driver keeps its per-domain pid files (qemu:///system).
inline constexpr const char* kLibvirtQemuRunDir = "/run/libvirt/qemu";

// A process as /proc shows it.
struct ProcessEntry {
  pid_t pid = 0;
  pid_t ppid = 0;
  std::vector<std::string> argv;
};

// Every process in /proc (those that exit while it reads are left out).
std::vector<ProcessEntry> readProcessTable();

// The host processes of domain `domainName` among `processes`: QEMU (the pid of libvirt's pid
// file when its command line names the domain, else the process started with `-name
// guest=<domain>`), the virtiofsd processes serving its shares (in `vmDir`), and the descendants of
// both. Throws NotFound when there is no QEMU. Pure (unit-tested on a process table).
std::vector<pid_t> findVmProcesses(const std::vector<ProcessEntry>& processes,
                                   const std::string& domainName, const std::string& vmDir,
                                   std::optional<pid_t> qemuPidFromFile);

// findVmProcesses with libvirt's pid file for the domain.
std::vector<pid_t> vmProcesses(const std::vector<ProcessEntry>& processes,
                               const std::string& domainName, const std::string& vmDir);

// The virtiofsd processes serving the shares in `vmDir` and their descendants, among `processes`
// (pure).
std::vector<pid_t> findVirtiofsd(const std::vector<ProcessEntry>& processes,
                                 const std::string& vmDir);

// QEMU's pid for domain `name`, when it runs: from libvirt's pid file, checked against the
// process's command line (a stale file or a reused pid is not ours).
std::optional<pid_t> qemuPid(const std::string& domainName);

// Kills the QEMU of `domainName` (SIGKILL) and waits up to `timeoutSeconds` for it to exit.
// For when libvirt does not answer: libvirtd finds the domain gone once it is back and cleans
// up after it (virtiofsd exits with its QEMU). Returns false when no QEMU ran the domain.
bool killQemu(const std::string& domainName, double timeoutSeconds);

}  // namespace runvirt::backend

// The host processes of a running VM, as libvirt started them: QEMU (named by libvirt's pid
// file and its `-name guest=<domain>` argument) and the virtiofsd serving its share.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace runvirt::backend {

// Where libvirt's QEMU driver keeps its per-domain pid files.
inline constexpr const char* kLibvirtQemuRunDir = "/run/libvirt/qemu";

// QEMU's pid for domain `name`, when it runs: from libvirt's pid file, checked against the
// process's command line (a stale file or a reused pid is not ours).
std::optional<pid_t> qemuPid(const std::string& domainName);

// Kills the QEMU of `domainName` (SIGKILL) and waits up to `timeoutSeconds` for it to exit.
// For when libvirt does not answer: libvirtd finds the domain gone once it is back and cleans
// up after it (virtiofsd exits with its QEMU). Returns false when no QEMU ran the domain.
bool killQemu(const std::string& domainName, double timeoutSeconds);

}  // namespace runvirt::backend

#include "vm/vm_processes.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "common/files.hpp"
#include "common/log.hpp"
#include "common/process_info.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"

namespace runvirt::backend {

namespace {

// The NUL-separated arguments of /proc/<pid>/cmdline contain `-name` followed by
// `guest=<domain>` (libvirt adds `,debug-threads=on`).
bool runsDomain(pid_t pid, const std::string& domainName) {
  std::string cmdline;
  try {
    cmdline = readFile("/proc/" + std::to_string(pid) + "/cmdline");
  } catch (const Error&) {
    return false;
  }
  std::string wanted = std::string("-name") + '\0' + "guest=" + domainName;
  auto at = cmdline.find(wanted);
  if (at == std::string::npos) return false;
  char next = at + wanted.size() < cmdline.size() ? cmdline[at + wanted.size()] : '\0';
  return next == '\0' || next == ',';
}

}  // namespace

std::optional<pid_t> qemuPid(const std::string& domainName) {
  pid_t pid = 0;
  try {
    pid = static_cast<pid_t>(std::stol(readFile(std::string(kLibvirtQemuRunDir) + "/" + domainName + ".pid")));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (pid <= 0 || !runsDomain(pid, domainName)) return std::nullopt;
  return pid;
}

bool killQemu(const std::string& domainName, double timeoutSeconds) {
  auto pid = qemuPid(domainName);
  if (!pid) return false;
  auto startTime = processStartTime(*pid);
  if (!startTime) return false;
  // PRIVILEGED: kill a VM's QEMU directly, only when libvirt cannot be asked.
  if (kill(*pid, SIGKILL) < 0 && errno != ESRCH) throwErrno("kill QEMU " + std::to_string(*pid));
  double deadline = log::monotonicSeconds() + timeoutSeconds;
  while (isSameProcessAlive(*pid, *startTime) && log::monotonicSeconds() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace runvirt::backend

#include "vm/vm_processes.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <thread>

#include "common/files.hpp"
#include "common/log.hpp"
#include "common/process_info.hpp"
#include "common/strings.hpp"
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

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A virtiofsd exporting a directory inside `vmDir` (the rootfs share or the volumes share).
bool servesShare(const ProcessEntry& p, const std::string& vmDir) {
  if (p.argv.empty() || !endsWith(p.argv[0], "virtiofsd")) return false;
  for (const auto& arg : p.argv) {
    for (const auto& option : split(arg, ',', EmptyFields::Drop)) {
      if (startsWith(option, "source=" + vmDir + "/")) return true;
    }
  }
  return false;
}

// `found` grows by every descendant of its members.
void addDescendants(const std::vector<ProcessEntry>& processes, std::set<pid_t>& found) {
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& p : processes) {
      if (found.count(p.ppid) && found.insert(p.pid).second) grew = true;
    }
  }
}

std::optional<pid_t> readPidFile(const std::string& path) {
  try {
    return static_cast<pid_t>(std::stol(readFile(path)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<ProcessEntry> readProcess(pid_t pid) {
  ProcessEntry entry;
  entry.pid = pid;
  try {
    std::string base = "/proc/" + std::to_string(pid);
    std::string stat = readFile(base + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    rest >> state >> entry.ppid;
    std::string cmdline = readFile(base + "/cmdline");
    for (std::size_t start = 0; start < cmdline.size();) {
      std::size_t end = cmdline.find('\0', start);
      if (end == std::string::npos) end = cmdline.size();
      entry.argv.push_back(cmdline.substr(start, end - start));
      start = end + 1;
    }
  } catch (const Error&) {
    return std::nullopt;  // exited meanwhile
  }
  return entry;
}

}  // namespace

std::vector<ProcessEntry> readProcessTable() {
  std::vector<ProcessEntry> table;
  DIR* proc = opendir("/proc");
  if (!proc) throwErrno("open /proc");
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (auto process = readProcess(static_cast<pid_t>(pid))) table.push_back(std::move(*process));
  }
  closedir(proc);
  return table;
}

std::vector<pid_t> findVmProcesses(const std::vector<ProcessEntry>& processes,
                                   const std::string& domainName, const std::string& vmDir,
                                   std::optional<pid_t> qemuPidFromFile) {
  auto isQemu = [&](const ProcessEntry& p) {
    for (std::size_t i = 0; i + 1 < p.argv.size(); ++i) {
      const std::string& value = p.argv[i + 1];
      std::string guest = "guest=" + domainName;
      if (p.argv[i] == "-name" && (value == guest || startsWith(value, guest + ","))) return true;
    }
    return false;
  };
  std::optional<pid_t> qemu;
  for (const auto& p : processes) {
    if (qemuPidFromFile && p.pid == *qemuPidFromFile && isQemu(p)) qemu = p.pid;
  }
  for (auto p = processes.begin(); !qemu && p != processes.end(); ++p) {
    if (isQemu(*p)) qemu = p->pid;
  }
  if (!qemu) throw Error("no QEMU process runs domain " + quote(domainName), ErrorKind::NotFound);
  std::set<pid_t> found{*qemu};
  for (const auto& p : processes) {
    if (servesShare(p, vmDir)) found.insert(p.pid);
  }
  addDescendants(processes, found);  // e.g. virtiofsd's sandboxed worker
  return {found.begin(), found.end()};
}

std::vector<pid_t> vmProcesses(const std::vector<ProcessEntry>& processes,
                               const std::string& domainName, const std::string& vmDir) {
  return findVmProcesses(processes, domainName, vmDir,
                         readPidFile(std::string(kLibvirtQemuRunDir) + "/" + domainName + ".pid"));
}

std::vector<pid_t> findVirtiofsd(const std::vector<ProcessEntry>& processes,
                                 const std::string& vmDir) {
  std::set<pid_t> found;
  for (const auto& p : processes) {
    if (servesShare(p, vmDir)) found.insert(p.pid);
  }
  addDescendants(processes, found);
  return {found.begin(), found.end()};
}

std::optional<pid_t> qemuPid(const std::string& domainName) {
  auto pid = readPidFile(std::string(kLibvirtQemuRunDir) + "/" + domainName + ".pid");
  if (!pid || *pid <= 0 || !runsDomain(*pid, domainName)) return std::nullopt;
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

#include "cgroups/host_cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

#include "common/files.hpp"
#include "common/strings.hpp"
#include "runvirt/file_io.hpp"
#include "storage/host_mounts.hpp"
#include "vm/vm_config.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

constexpr const char* kRecordFile = "cgroups";
constexpr double kRemoveWaitSeconds = 5;

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "/a//b/./c" -> "/a/b/c"; ".." is refused: the path must stay below the hierarchy root.
std::string cleanCgroupPath(const std::string& path, const std::string& original) {
  std::string clean;
  for (const auto& part : split(path, '/', EmptyFields::Drop)) {
    if (part == ".") continue;
    if (part == "..") {
      throw Error("invalid cgroupsPath " + quote(original) + ": `..` is not allowed",
                  ErrorKind::InvalidArgument);
    }
    clean += "/" + part;
  }
  return clean;
}

// systemd's slice naming: "a-b-c.slice" lives at /a.slice/a-b.slice/a-b-c.slice.
std::string expandSlice(const std::string& slice, const std::string& original) {
  auto invalid = [&] {
    return Error("invalid cgroupsPath " + quote(original) + ": " + quote(slice) +
                     " is not a valid slice name",
                 ErrorKind::InvalidArgument);
  };
  if (slice == "-.slice") return "";
  if (!endsWith(slice, ".slice") || slice.find('/') != std::string::npos) throw invalid();
  std::string base = slice.substr(0, slice.size() - 6);
  if (base.empty() || base.front() == '-' || base.back() == '-' ||
      base.find("--") != std::string::npos) {
    throw invalid();
  }
  std::string path, prefix;
  for (const auto& part : split(base, '-', EmptyFields::Keep)) {
    prefix += (prefix.empty() ? "" : "-") + part;
    path += "/" + prefix + ".slice";
  }
  return path;
}

std::string systemdPath(const std::string& cgroupsPath) {
  auto parts =
      split(cgroupsPath, ':', EmptyFields::Keep);  // exactly three: the caller counted two ':'
  const std::string& name = parts[2];
  if (name.empty() || name.find('/') != std::string::npos ||
      parts[1].find('/') != std::string::npos) {
    throw Error("invalid cgroupsPath " + quote(cgroupsPath) + ": expected \"slice:prefix:name\"",
                ErrorKind::InvalidArgument);
  }
  std::string parent = expandSlice(parts[0].empty() ? "system.slice" : parts[0], cgroupsPath);
  if (endsWith(name, ".slice")) return expandSlice(name, cgroupsPath);
  return parent + "/" + (parts[1].empty() ? "" : parts[1] + "-") + name + ".scope";
}

// A cgroup path below a hierarchy mounted at `hierarchy.root`.
std::string directoryIn(const CgroupHierarchy& hierarchy, const std::string& cgroup) {
  std::string below = cgroup;
  if (hierarchy.root != "/" &&
      (cgroup == hierarchy.root || startsWith(cgroup, hierarchy.root + "/"))) {
    below = cgroup.substr(hierarchy.root.size());
  }
  return hierarchy.mountPoint + below;
}

const ProcessCgroup* ownLineFor(const CgroupHierarchy& hierarchy,
                                const std::vector<ProcessCgroup>& own) {
  for (const auto& line : own) {
    if (hierarchy.unified
            ? line.controllers.empty()
            : !line.controllers.empty() &&
                  std::all_of(line.controllers.begin(), line.controllers.end(),
                              [&](const std::string& c) { return hierarchy.has(c); })) {
      return &line;
    }
  }
  return nullptr;
}

// ---- cgroupfs ----

// cgroupfs files take one value per write(2). Returns errno, 0 on success.
int tryWrite(const std::string& path, const std::string& value) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  if (write(fd.get(), value.data(), value.size()) < 0) return errno;
  return 0;
}

void writeOrThrow(const std::string& path, const std::string& value) {
  if (int err = tryWrite(path, value))
    throwErrno("write " + quote(value) + " to " + quote(path), err);
}

std::string trimmed(const std::string& text) {
  auto end = text.find_last_not_of(" \n\t");
  return end == std::string::npos ? "" : text.substr(0, end + 1);
}

// A new cpuset is empty, and an empty cpuset takes no task: copy the parent's.
void inheritCpuset(const std::string& dir) {
  std::string parent = dir.substr(0, dir.rfind('/'));
  for (const char* name : {"cpuset.cpus", "cpuset.mems"}) {
    std::string file = dir + "/" + name;
    if (!pathExists(file)) continue;
    if (trimmed(readFile(file)).empty()) writeOrThrow(file, trimmed(readFile(parent + "/" + name)));
  }
}

// cgroup2: the parent decides which controllers a child gets. Best effort, one controller at a
// time: on a hybrid host there are none, a parent holding processes refuses them all (the "no
// internal processes" rule), and some refuse alone (cpu while realtime threads run).
void enableControllers(const std::string& parent) {
  std::istringstream available(readFile(parent + "/cgroup.controllers"));
  for (std::string controller; available >> controller;) {
    if (int err = tryWrite(parent + "/cgroup.subtree_control", "+" + controller)) {
      log::debug("enable " + controller + " in " + parent + ": " + std::strerror(err));
    }
  }
}

// mkdir -p below the mount point, preparing each level as runc does.
void createDirectory(const CgroupDirectory& dir) {
  std::string current = dir.mountPoint;
  for (const auto& part : split(dir.path.substr(dir.mountPoint.size()), '/', EmptyFields::Drop)) {
    if (dir.unified) enableControllers(current);
    current += "/" + part;
    if (mkdir(current.c_str(), 0755) != 0 && errno != EEXIST) throwErrno("mkdir " + quote(current));
    if (dir.cpuset) inheritCpuset(current);
  }
}

void addProcess(const std::string& dir, pid_t pid) {
  int err = tryWrite(dir + "/cgroup.procs", std::to_string(pid));
  if (err == ESRCH) return;  // exited meanwhile: nothing to account
  if (err) throwErrno("add process " + std::to_string(pid) + " to " + quote(dir), err);
}

std::string recordPath(const std::string& vmDir) { return vmDir + "/" + kRecordFile; }

std::vector<std::string> recordedDirectories(const std::string& vmDir) {
  if (!pathExists(recordPath(vmDir))) return {};
  return split(readFile(recordPath(vmDir)), '\n', EmptyFields::Drop);
}

}  // namespace

bool CgroupHierarchy::has(const std::string& controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::vector<CgroupHierarchy> parseCgroupHierarchies(const std::string& mountinfo) {
  std::vector<CgroupHierarchy> hierarchies;
  std::set<std::string> seen;  // major:minor of each hierarchy's superblock
  std::istringstream lines(mountinfo);
  for (std::string line; std::getline(lines, line);) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, device, root, fsType, source, superOptions;
    head >> id >> parent >> device >> root;
    tail >> fsType >> source >> superOptions;
    if ((fsType != "cgroup" && fsType != "cgroup2") || !seen.insert(device).second) continue;
    CgroupHierarchy hierarchy;
    hierarchy.mountPoint = mountPointOfMountinfoLine(line);
    hierarchy.root = root;
    hierarchy.unified = fsType == "cgroup2";
    if (!hierarchy.unified) {
      for (auto& option : split(superOptions, ',', EmptyFields::Drop)) {
        if (option != "rw" && option != "ro") hierarchy.controllers.push_back(option);
      }
    }
    hierarchies.push_back(std::move(hierarchy));
  }
  return hierarchies;
}

std::vector<ProcessCgroup> parseProcessCgroups(const std::string& text) {
  std::vector<ProcessCgroup> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':');
    auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    ProcessCgroup cgroup;
    std::string controllers = line.substr(first + 1, second - first - 1);
    cgroup.controllers = split(controllers, ',', EmptyFields::Keep);
    cgroup.path = line.substr(second + 1);
    lines.push_back(std::move(cgroup));
  }
  return lines;
}

std::optional<CgroupsPath> parseCgroupsPath(const std::string& cgroupsPath) {
  if (cgroupsPath.empty()) return std::nullopt;
  if (cgroupsPath[0] != '/' && std::count(cgroupsPath.begin(), cgroupsPath.end(), ':') == 2) {
    return CgroupsPath{systemdPath(cgroupsPath), false};
  }
  if (cgroupsPath.find(':') != std::string::npos && cgroupsPath[0] != '/') {
    throw Error("invalid cgroupsPath " + quote(cgroupsPath) +
                    ": expected \"/path\" or \"slice:prefix:name\"",
                ErrorKind::InvalidArgument);
  }
  CgroupsPath parsed{cleanCgroupPath(cgroupsPath, cgroupsPath), cgroupsPath[0] != '/'};
  if (parsed.path.empty()) {
    throw Error("invalid cgroupsPath " + quote(cgroupsPath) + ": names the root cgroup",
                ErrorKind::InvalidArgument);
  }
  if (parsed.relative) parsed.path.erase(0, 1);
  return parsed;
}

std::vector<CgroupDirectory> planCgroupDirectories(const std::vector<CgroupHierarchy>& hierarchies,
                                                   const CgroupsPath& path,
                                                   const std::vector<ProcessCgroup>& own) {
  std::vector<CgroupDirectory> dirs;
  for (const auto& hierarchy : hierarchies) {
    std::string cgroup = path.path;
    if (path.relative) {
      const ProcessCgroup* base = ownLineFor(hierarchy, own);
      if (!base) continue;
      cgroup = (base->path == "/" ? "" : base->path) + "/" + path.path;
    }
    CgroupDirectory dir;
    dir.mountPoint = hierarchy.mountPoint;
    dir.path = directoryIn(hierarchy, cgroup);
    dir.cpuset = hierarchy.has("cpuset");
    dir.unified = hierarchy.unified;
    dirs.push_back(std::move(dir));
  }
  return dirs;
}

void placeVmInContainerCgroup(const oci::Spec& spec, const ContainerRecord& record,
                              const std::function<std::vector<pid_t>()>& vmPids) {
  if (!spec.linux) return;
  auto path = parseCgroupsPath(spec.linux->cgroupsPath);
  if (!path) return;
  withContext("account the VM in cgroup " + quote(spec.linux->cgroupsPath), [&] {
    auto dirs = planCgroupDirectories(parseCgroupHierarchies(readFile("/proc/self/mountinfo")),
                                      *path, parseProcessCgroups(readFile("/proc/self/cgroup")));
    std::vector<pid_t> pids = vmPids();
    pids.insert(pids.begin(), getpid());  // the monitor: the pid Docker's shim reads the cgroup of
    std::string recorded;
    for (const auto& dir : dirs) recorded += dir.path + "\n";
    writeFileAtomic(recordPath(record.vmDir), recorded);  // first: a failure below is cleaned up
    for (const auto& dir : dirs) {
      createDirectory(dir);
      for (pid_t pid : pids) addProcess(dir.path, pid);
    }
    std::string shown;
    for (pid_t pid : pids) shown += " " + std::to_string(pid);
    log::debug("cgroup " + path->path + " holds the monitor, QEMU and virtiofsd:" + shown);
  });
}

void addToContainerCgroup(const std::string& vmDir, pid_t pid) {
  for (const auto& dir : recordedDirectories(vmDir)) addProcess(dir, pid);
}

void removeContainerCgroup(const std::string& vmDir) {
  auto dirs = recordedDirectories(vmDir);
  double deadline = log::monotonicSeconds() + kRemoveWaitSeconds;
  for (const auto& dir : dirs) {
    // QEMU and virtiofsd may still be exiting just after the domain was destroyed.
    while (rmdir(dir.c_str()) != 0 && errno != ENOENT) {
      if (errno != EBUSY || log::monotonicSeconds() >= deadline) {
        int err = errno;
        std::string procs =
            pathExists(dir + "/cgroup.procs") ? trimmed(readFile(dir + "/cgroup.procs")) : "";
        std::replace(procs.begin(), procs.end(), '\n', ' ');
        throwErrno("remove cgroup " + quote(dir) +
                       (procs.empty() ? "" : " (processes left: " + procs + ")"),
                   err);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace runvirt::backend

#include "cgroup.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "file_util.hpp"
#include "log.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "syscalls.hpp"

namespace runvirt::agent {

namespace {

std::string limitValue(std::int64_t limit) { return limit > 0 ? std::to_string(limit) : "max"; }

void makeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throwErrno("mkdir " + quote(path));
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// Enables in `dir`'s children the planned controllers that `dir` itself has.
void enableControllers(const std::string& dir, const std::vector<std::string>& wanted) {
  auto available = words(readFile(dir + "/cgroup.controllers"));
  std::string request;
  for (const auto& controller : wanted) {
    if (std::find(available.begin(), available.end(), controller) == available.end()) continue;
    request += (request.empty() ? "+" : " +") + controller;
  }
  if (!request.empty()) writeFile(dir + "/cgroup.subtree_control", request);
}

void writeCgroupFile(const std::string& dir, const CgroupFile& file) {
  std::string path = dir + "/" + file.name;
  if (file.optional && ::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    log::debug("cgroup: %s is not offered by this kernel, skipped", file.name.c_str());
    return;
  }
  writeFile(path, file.value);
}

bool isCgroup2(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

// The agent's own cgroup2 mount, made by the first create rather than at boot (boot.cpp stays
// as it is); later creates find it there.
void mountCgroup2Once() {
  if (isCgroup2(kCgroupMount)) return;
  sys::mountFilesystem("cgroup2", kCgroupMount, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
}

}  // namespace

CgroupPlan planContainerCgroup(const std::string& id, const Resources& resources) {
  CgroupPlan plan;
  plan.dir = std::string(kContainersCgroup) + "/" + id;
  plan.controllers = {"memory", "pids"};
  plan.files = {
      {"memory.max", limitValue(resources.memoryLimit)},
      // runc's -m with Docker's default --memory-swap (twice the limit) lets the container swap;
      // the VM has no swap device, so 0 changes nothing but says so. Absent without CONFIG_SWAP.
      {"memory.swap.max", "0", true},
      {"pids.max", limitValue(resources.pidsLimit)},
  };
  if (resources.memoryLimit > 0) plan.overcommitMemory = "1";
  return plan;
}

ContainerCgroup ContainerCgroup::create(const CgroupPlan& plan, const std::string& root) {
  if (root == kCgroupMount) {
    withContext("mount cgroup2", [] { mountCgroup2Once(); });
    if (!plan.overcommitMemory.empty())
      writeFile("/proc/sys/vm/overcommit_memory", plan.overcommitMemory);
  }
  std::string parent = root;
  std::istringstream parts(plan.dir);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty()) continue;
    enableControllers(parent, plan.controllers);
    parent += "/" + part;
    makeDirectory(parent);
  }
  ContainerCgroup cgroup;
  cgroup.path_ = parent;
  for (const auto& file : plan.files) writeCgroupFile(cgroup.path_, file);
  cgroup.fd_ = UniqueFd(::open(cgroup.path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup.fd_) throwErrno("open " + quote(cgroup.path_));
  return cgroup;
}

void ContainerCgroup::addProcess(pid_t pid) const {
  if (!fd_) throw Error("the container has no cgroup");
  writeFile(path_ + "/cgroup.procs", std::to_string(pid));
}

void ContainerCgroup::remove() {
  if (path_.empty()) return;
  fd_.reset();
  if (::rmdir(path_.c_str()) != 0 && errno != ENOENT) {
    log::warn("remove cgroup %s: %s", path_.c_str(), std::strerror(errno));
  }
  path_.clear();
}

}  // namespace runvirt::agent

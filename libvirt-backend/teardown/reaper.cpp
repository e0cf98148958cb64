#include "teardown/reaper.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include <set>

#include "common/log.hpp"
#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"
#include "teardown/vm_teardown.hpp"
#include "vm/destroy_vm.hpp"
#include "vm/vm_owner.hpp"

namespace runvirt::backend {

namespace {

constexpr const char* kDomainPrefix = "runvirt-";
constexpr const char* kLockFile = ".reaper.lock";

std::string describeOwner(const VmOwner& owner) {
  std::string what = owner.kind == VmOwner::Kind::Container ? "the monitor of container "
                                                            : "the teardown of container ";
  return "its owner, " + what + quote(owner.containerId) + " (pid " + std::to_string(owner.pid) +
         "), is gone";
}

std::vector<std::string> vmDirectories(const std::string& vmRoot) {
  std::vector<std::string> names;
  DIR* dir = opendir(vmRoot.c_str());
  if (!dir) {
    if (errno == ENOENT) return names;
    throwErrno("open " + vmRoot);
  }
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.rfind(kDomainPrefix, 0) == 0) names.push_back(name);
  }
  closedir(dir);
  return names;
}

// Seconds since `path` last changed; 0 when it cannot be read.
double ageOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) < 0) return 0;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec - st.st_mtim.tv_sec);
}

// The orphans among the VM directories.
void scanVmDirectories(const ReaperScope& scope, std::vector<Orphan>& orphans) {
  for (const auto& name : vmDirectories(scope.vmRoot)) {
    std::string dir = scope.vmRoot + "/" + name;
    auto owner = readOwnerFile(dir);
    if (owner && !ownerAlive(*owner)) {
      orphans.push_back({name, dir, describeOwner(*owner)});
    } else if (!owner && ageOf(dir) >= scope.ownerlessGraceSeconds) {
      orphans.push_back({name, dir, "it names no owner"});
    }
  }
}

// The orphans only libvirt still knows: domains whose metadata names a dead owner.
void scanDomains(const ReaperScope& scope, std::vector<Orphan>& orphans) {
  std::set<std::string> known;
  for (const auto& orphan : orphans) known.insert(orphan.domainName);
  for (const auto& domain : scope.connect(scope.libvirtUri)->listDomains()) {
    if (!domain.owner || known.count(domain.name) || ownerAlive(*domain.owner)) continue;
    std::string dir = scope.vmRoot + "/" + domain.name;
    // With its VM directory gone (removed by hand), only the domain is left to destroy.
    orphans.push_back({domain.name, ageOf(dir) > 0 ? dir : "", describeOwner(*domain.owner)});
  }
}

// An exclusive, non-blocking lock on <vm_dir>/.reaper.lock; an empty fd when another holds it.
UniqueFd lockReaper(const std::string& vmRoot) {
  std::string path = vmRoot + "/" + kLockFile;
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) {
    if (errno == ENOENT) return UniqueFd();  // no vm_dir yet: no VM either
    throwErrno("open " + path);
  }
  if (flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) return UniqueFd();
    throwErrno("lock " + path);
  }
  return fd;
}

}  // namespace

std::vector<Orphan> findOrphans(const ReaperScope& scope) {
  std::vector<Orphan> orphans;
  scanVmDirectories(scope, orphans);
  if (scope.askLibvirt) scanDomains(scope, orphans);
  return orphans;
}

std::vector<std::string> reapOrphans(const ReaperScope& scope, const std::vector<Orphan>& orphans) {
  std::vector<std::string> failures;
  if (orphans.empty()) return failures;
  UniqueFd lock = lockReaper(scope.vmRoot);
  if (!lock) return failures;
  for (const auto& orphan : orphans) {
    try {
      // Judged again under the lock: a teardown may have taken it over meanwhile.
      if (!orphan.vmDir.empty()) {
        auto owner = readOwnerFile(orphan.vmDir);
        if (owner && ownerAlive(*owner)) continue;
        tearDownVm({orphan.domainName, orphan.vmDir, {}}, scope.connect, scope.libvirtUri);
      } else {
        destroyVm(scope.connect, scope.libvirtUri, orphan.domainName);
      }
      log::info("reaped VM " + quote(orphan.domainName) + ": " + orphan.why);
    } catch (const std::exception& e) {
      failures.push_back(orphan.domainName + ": " + e.what());
    }
  }
  return failures;
}

void reapQuietly(const ReaperScope& scope) noexcept {
  try {
    for (const auto& failure : reapOrphans(scope, findOrphans(scope)))
      log::warn("reaper: " + failure);
  } catch (const std::exception& e) {
    log::warn(std::string("reaper: ") + e.what());
  }
}

}  // namespace runvirt::backend

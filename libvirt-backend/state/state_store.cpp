#include "state/state_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/files.hpp"
#include "runvirt/file_io.hpp"
#include "storage/host_mounts.hpp"
#include "common/process_info.hpp"
#include "network/tap.hpp"
#include "runvirt/error.hpp"
#include "runvirt/json_fields.hpp"
#include "runvirt/oci/container_id.hpp"

namespace runvirt::backend {

namespace {

constexpr const char* kStateFile = "state.json";
constexpr const char* kLockFile = "lock";

oci::Status parseStatus(const std::string& text) {
  for (auto s : {oci::Status::Creating, oci::Status::Created, oci::Status::Running,
                 oci::Status::Paused, oci::Status::Stopped}) {
    if (oci::toString(s) == text) return s;
  }
  throw Error("state.json: unknown status " + quote(text));
}

}  // namespace

bool ContainerRecord::monitorAlive() const {
  // Records written before the boot id was kept have none: judged by pid and start time alone.
  bool sameBoot = bootId.empty() || bootId == currentBootId();
  return sameBoot && monitorPid > 0 && isSameProcessAlive(monitorPid, monitorStartTime);
}

oci::Status ContainerRecord::effectiveStatus() const {
  if (status == oci::Status::Stopped) return status;
  bool otherBoot = !bootId.empty() && bootId != currentBootId();
  if (status == oci::Status::Creating && !otherBoot) {
    // A create in progress, or one that died: the monitor tells which.
    return monitorAlive() || monitorPid == 0 ? status : oci::Status::Stopped;
  }
  return monitorAlive() ? status : oci::Status::Stopped;
}

oci::State ContainerRecord::ociState() const {
  oci::State s;
  s.id = id;
  s.status = effectiveStatus();
  s.pid = s.status == oci::Status::Stopped ? 0 : monitorPid;
  s.bundle = bundle;
  s.rootfs = rootfs;
  s.created = created;
  s.annotations = annotations;
  return s;
}

nlohmann::json toJson(const ContainerRecord& r) {
  nlohmann::json j = {{"id", r.id},
                      {"bundle", r.bundle},
                      {"rootfs", r.rootfs},
                      {"created", r.created},
                      {"status", oci::toString(r.status)},
                      {"monitorPid", r.monitorPid},
                      {"monitorStartTime", r.monitorStartTime},
                      {"bootId", r.bootId},
                      {"domainName", r.domainName},
                      {"vmDir", r.vmDir},
                      {"annotations", r.annotations},
                      {"hooks", r.hooks}};
  if (!r.taps.empty()) j["taps"] = r.taps;
  return j;
}

ContainerRecord parseRecord(const nlohmann::json& j) {
  std::vector<Problem> problems;
  FieldReader f(j, "", problems);
  ContainerRecord r;
  std::string status;
  std::int64_t pid = 0;
  f.get("id", r.id, true);
  f.get("bundle", r.bundle, true);
  f.get("rootfs", r.rootfs, true);
  f.get("created", r.created, true);
  f.get("status", status, true);
  f.get("monitorPid", pid, true);
  f.get("monitorStartTime", r.monitorStartTime, true);
  f.get("bootId", r.bootId);
  f.get("domainName", r.domainName, true);
  f.get("vmDir", r.vmDir, true);
  f.get("annotations", r.annotations);
  if (auto* hooks = f.object("hooks")) r.hooks = *hooks;
  f.get("taps", r.taps);
  for (std::size_t i = 0; i < r.taps.size(); ++i) {
    // `delete` removes these from the host: never anything but a runvirt tap name.
    if (!isTapName(r.taps[i])) {
      f.problem(f.childPath("taps") + "[" + std::to_string(i) + "]", "is not a runvirt tap name");
    }
  }
  f.rejectUnknownKeys();
  throwIfProblems(problems, "invalid state.json");
  r.status = parseStatus(status);
  r.monitorPid = static_cast<pid_t>(pid);
  return r;
}

StateStore::StateStore(std::string root) : root_(canonicalPath(root)) {}

void StateStore::claim(const std::string& id) {
  makeDirs(root_, 0711);
  if (mkdir(dir(id).c_str(), 0711) < 0) {
    if (errno == EEXIST)
      throw Error("container with given ID already exists", ErrorKind::AlreadyExists);
    throwErrno("create state directory " + dir(id));
  }
}

ContainerRecord StateStore::load(const std::string& id) const {
  oci::validateContainerId(id);
  std::string path = dir(id) + "/" + kStateFile;
  std::string text;
  try {
    text = readFile(path);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::NotFound)
      throw Error("container does not exist", ErrorKind::NotFound);
    throw;
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) throw Error(path + " is not valid JSON");
  return parseRecord(json);
}

void StateStore::save(const ContainerRecord& record) const {
  writeFileAtomic(dir(record.id) + "/" + kStateFile, toJson(record).dump() + "\n", 0600);
}

void StateStore::remove(const std::string& id) const { removeTree(dir(id)); }

bool StateStore::exists(const std::string& id) const {
  return pathExists(dir(id) + "/" + kStateFile);
}

std::vector<std::string> StateStore::ids() const {
  std::vector<std::string> out;
  DIR* d = opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    throwErrno("open " + root_);
  }
  while (dirent* entry = readdir(d)) {
    std::string name = entry->d_name;
    if (name != "." && name != ".." && exists(name)) out.push_back(name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

StateLock StateStore::lock(const std::string& id) const {
  oci::validateContainerId(id);  // the lock file is created: no path may escape the root
  std::string path = dir(id) + "/" + kLockFile;
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) {
    if (errno == ENOENT) throw Error("container does not exist", ErrorKind::NotFound);
    throwErrno("open " + path);
  }
  while (flock(fd.get(), LOCK_EX) < 0) {
    if (errno != EINTR) throwErrno("lock " + path);
  }
  return StateLock(std::move(fd));
}

}  // namespace runvirt::backend

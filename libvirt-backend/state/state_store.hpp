// <root>/<id>/state.json: what runvirt knows about one container, written atomically,
// parsed strictly, and protected by a lock for read-modify-write.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runvirt/oci/state.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

struct ContainerRecord {
  std::string id;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339
  oci::Status status = oci::Status::Creating;
  pid_t monitorPid = 0;
  std::uint64_t monitorStartTime = 0;  // guards against pid reuse
  std::string bootId;                  // the host boot the monitor ran in (a persistent --root)
  std::string domainName;
  std::string vmDir;
  std::map<std::string, std::string> annotations;
  nlohmann::json hooks = nlohmann::json::object();  // the spec's hooks, for poststart/poststop
  // Tap devices made for the VM's NICs, recorded before they are created in the host's network
  // namespace: `delete` removes any a failed or crashed set-up left there (removeHostTaps).
  std::vector<std::string> taps;

  // The monitor still runs: same boot, same pid, same start time.
  bool monitorAlive() const;
  // Stored status, except that a dead monitor means the container has stopped.
  oci::Status effectiveStatus() const;
  oci::State ociState() const;
};

// An exclusive flock held for the lifetime of the object.
class StateLock {
 public:
  explicit StateLock(UniqueFd fd) : fd_(std::move(fd)) {}

 private:
  UniqueFd fd_;
};

class StateStore {
 public:
  explicit StateStore(std::string root);

  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }

  // Claims the id: mkdir of <root>/<id> fails when it exists (runc's wording).
  void claim(const std::string& id);
  // Throws Error(NotFound, "container does not exist").
  ContainerRecord load(const std::string& id) const;
  void save(const ContainerRecord& record) const;
  void remove(const std::string& id) const;
  bool exists(const std::string& id) const;
  std::vector<std::string> ids() const;
  StateLock lock(const std::string& id) const;

 private:
  std::string root_;
};

nlohmann::json toJson(const ContainerRecord& record);
ContainerRecord parseRecord(const nlohmann::json& json);  // strict

}  // namespace runvirt::backend

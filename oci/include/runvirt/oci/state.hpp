// The OCI state of a container: what `runvirt state` prints and what hooks read on stdin.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace runvirt::oci {

enum class Status { Creating, Created, Running, Paused, Stopped };

std::string toString(Status status);

struct State {
  std::string ociVersion = "1.0.2-dev";
  std::string id;
  Status status = Status::Creating;
  int pid = 0;  // the monitor's pid; 0 once stopped
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339 with nanoseconds, UTC
  std::string owner;
  std::map<std::string, std::string> annotations;
};

// runc's `state` document (adds rootfs, created, owner to the runtime-spec fields).
nlohmann::json toRuncStateJson(const State& state);
// The runtime-spec state given to hooks on stdin.
nlohmann::json toHookStateJson(const State& state);

}  // namespace runvirt::oci

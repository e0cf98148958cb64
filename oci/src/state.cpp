#include "runvirt/oci/state.hpp"

namespace runvirt::oci {

std::string toString(Status status) {
  switch (status) {
    case Status::Creating:
      return "creating";
    case Status::Created:
      return "created";
    case Status::Running:
      return "running";
    case Status::Paused:
      return "paused";
    case Status::Stopped:
      return "stopped";
  }
  return "unknown";
}

nlohmann::json toRuncStateJson(const State& s) {
  nlohmann::json j = {{"ociVersion", s.ociVersion},   {"id", s.id},         {"pid", s.pid},
                      {"status", toString(s.status)}, {"bundle", s.bundle}, {"rootfs", s.rootfs},
                      {"created", s.created},         {"owner", s.owner}};
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return j;
}

nlohmann::json toHookStateJson(const State& s) {
  nlohmann::json j = {{"ociVersion", s.ociVersion},
                      {"id", s.id},
                      {"status", toString(s.status)},
                      {"pid", s.pid},
                      {"bundle", s.bundle}};
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return j;
}

}  // namespace runvirt::oci

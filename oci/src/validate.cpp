#include "runvirt/oci/validate.hpp"

#include <set>

#include "runvirt/error.hpp"
#include "runvirt/oci/linux_names.hpp"

namespace runvirt::oci {

namespace {

const std::set<std::string> kNamespaceTypes = {"pid", "network", "mount",  "ipc",
                                               "uts", "user",    "cgroup", "time"};

std::string at(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

void checkCapabilityList(const std::vector<std::string>& names, const std::string& path,
                         std::vector<Problem>& problems) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!capabilityNumber(names[i])) {
      problems.push_back({at(path, i), "unknown capability \"" + names[i] + "\""});
    }
  }
}

void validateNamespaces(const Spec& spec, std::vector<Problem>& problems) {
  if (!spec.linux) return;
  std::set<std::string> seen;
  const auto& namespaces = spec.linux->namespaces;
  for (std::size_t i = 0; i < namespaces.size(); ++i) {
    const auto& ns = namespaces[i];
    std::string path = at("linux.namespaces", i);
    if (!kNamespaceTypes.count(ns.type)) {
      problems.push_back({path + ".type", "unknown namespace type \"" + ns.type + "\""});
    } else if (!seen.insert(ns.type).second) {
      problems.push_back({path + ".type", "duplicate namespace \"" + ns.type + "\""});
    } else if (ns.type == "user") {
      problems.push_back(
          {path, "user namespaces are not supported: the VM is the isolation boundary"});
    } else if (!ns.path.empty() && ns.type != "network") {
      problems.push_back(
          {path + ".path", "joining an existing " + ns.type +
                               " namespace is not supported: each container has its own VM"});
    }
  }
  if (spec.linux->hasUserNamespaceMappings) {
    problems.push_back({"linux.uidMappings", "user namespace mappings are not supported"});
  }
}

}  // namespace

void validateProcess(const Process& p, const std::string& path, std::vector<Problem>& problems) {
  if (p.args.empty()) problems.push_back({path + ".args", "args must not be empty"});
  if (p.cwd.empty() || p.cwd[0] != '/') {
    problems.push_back({path + ".cwd", "cwd property must be an absolute path"});
  }
  for (std::size_t i = 0; i < p.env.size(); ++i) {
    if (p.env[i].find('=') == std::string::npos) {
      problems.push_back({at(path + ".env", i), "must have the form NAME=value"});
    }
  }
  for (std::size_t i = 0; i < p.rlimits.size(); ++i) {
    const auto& limit = p.rlimits[i];
    if (!rlimitNumber(limit.type)) {
      problems.push_back(
          {at(path + ".rlimits", i) + ".type", "unknown rlimit type \"" + limit.type + "\""});
    } else if (limit.soft > limit.hard) {
      problems.push_back({at(path + ".rlimits", i), "soft limit is above the hard limit"});
    }
  }
  if (p.capabilities) {
    const auto& c = *p.capabilities;
    checkCapabilityList(c.bounding, path + ".capabilities.bounding", problems);
    checkCapabilityList(c.effective, path + ".capabilities.effective", problems);
    checkCapabilityList(c.inheritable, path + ".capabilities.inheritable", problems);
    checkCapabilityList(c.permitted, path + ".capabilities.permitted", problems);
    checkCapabilityList(c.ambient, path + ".capabilities.ambient", problems);
  }
}

// "/dev/<name>[/<name>...]" with no empty, "." or ".." component.
bool isPlainPathUnderDev(const std::string& path) {
  if (path.rfind("/dev/", 0) != 0) return false;
  std::size_t start = 5;
  for (;;) {
    std::size_t end = path.find('/', start);
    std::string part =
        path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

// A device node goes under /dev, as runc requires: spelled plainly, since the guest creates it
// (and the directories above it) inside the container's /dev.
void validateDevices(const std::vector<Device>& devices, std::vector<Problem>& problems) {
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const auto& d = devices[i];
    std::string path = at("linux.devices", i);
    bool plain = isPlainPathUnderDev(d.path);
    if (!plain)
      problems.push_back(
          {path + ".path", "device " + quote(d.path) + " must be a path under /dev"});
    if (d.type != "c" && d.type != "u" && d.type != "b" && d.type != "p") {
      problems.push_back(
          {path + ".type", "unknown device type " + quote(d.type) + " (c, u, b or p)"});
    }
    if (d.major < 0 || d.minor < 0 || d.major > 0xfff || d.minor > 0xfffff) {
      problems.push_back({path, "device " + quote(d.path) + " has invalid numbers " +
                                    std::to_string(d.major) + ":" + std::to_string(d.minor)});
    }
    if (d.fileMode && (*d.fileMode & ~07777u)) {
      problems.push_back({path + ".fileMode", "must hold permission bits only"});
    }
  }
}

std::vector<Problem> validate(const Spec& spec) {
  std::vector<Problem> problems;
  if (!spec.process) {
    problems.push_back({"process", "is required"});
  } else {
    validateProcess(*spec.process, "process", problems);
  }
  if (spec.root.path.empty()) problems.push_back({"root.path", "is required"});
  for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    if (m.destination.empty() || m.destination[0] != '/') {
      problems.push_back({at("mounts", i) + ".destination", "must be an absolute path"});
    }
  }
  validateNamespaces(spec, problems);
  if (spec.linux) validateDevices(spec.linux->devices, problems);
  if (!spec.hostname.empty() && spec.linux && !spec.hasNamespace("uts")) {
    problems.push_back({"hostname", "unable to set hostname without a private UTS namespace"});
  }
  if (spec.linux && spec.linux->resources && spec.linux->resources->memory &&
      spec.linux->resources->memory->limit && *spec.linux->resources->memory->limit > 0 &&
      *spec.linux->resources->memory->limit < (6 << 20)) {
    problems.push_back({"linux.resources.memory.limit", "minimum memory limit allowed is 6MB"});
  }
  return problems;
}

}  // namespace runvirt::oci

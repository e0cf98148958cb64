#include "admin/docker_config.hpp"

#include <dirent.h>
#include <signal.h>

#include <algorithm>

#include "common/files.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

namespace {

bool pointsAt(const DaemonJson& runtime, const std::string& path) {
  return runtime.is_object() && runtime.contains("path") && runtime["path"] == path;
}

}  // namespace

Registration registerRuntimes(DaemonJson& config, const std::vector<std::string>& names,
                              const std::string& path, bool makeDefault, bool replace) {
  if (!config.is_object()) throw Error("daemon.json is not a JSON object");
  if (!config.contains("runtimes")) config["runtimes"] = DaemonJson::object();
  DaemonJson& runtimes = config["runtimes"];
  if (!runtimes.is_object()) throw Error("daemon.json: \"runtimes\" is not an object");
  Registration result;
  for (const auto& name : names) {
    if (!replace && runtimes.contains(name) && !pointsAt(runtimes[name], path)) {
      result.skipped.push_back(name);
      continue;
    }
    runtimes[name] = DaemonJson{{"path", path}};
    result.registered.push_back(name);
  }
  if (makeDefault && !result.registered.empty())
    config["default-runtime"] = result.registered.front();
  return result;
}

std::vector<std::string> unregisterRuntimes(DaemonJson& config, const std::string& path) {
  std::vector<std::string> removed;
  if (!config.is_object() || !config.contains("runtimes") || !config["runtimes"].is_object())
    return removed;
  DaemonJson& runtimes = config["runtimes"];
  for (auto it = runtimes.begin(); it != runtimes.end();) {
    if (pointsAt(it.value(), path)) {
      removed.push_back(it.key());
      it = runtimes.erase(it);
    } else {
      ++it;
    }
  }
  if (runtimes.empty()) config.erase("runtimes");
  if (config.contains("default-runtime") && config["default-runtime"].is_string() &&
      std::count(removed.begin(), removed.end(), config["default-runtime"].get<std::string>())) {
    config.erase("default-runtime");
  }
  return removed;
}

DaemonJson readDaemonJson(const std::string& file) {
  if (!pathExists(file)) return DaemonJson::object();
  std::string text = readFile(file);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return DaemonJson::object();
  DaemonJson config = DaemonJson::parse(text, nullptr, false);
  if (config.is_discarded()) throw Error(file + " is not valid JSON: fix or remove it first");
  return config;
}

void writeDaemonJson(const std::string& file, const DaemonJson& config) {
  std::string dir = file.substr(0, file.rfind('/'));
  if (!dir.empty()) makeDirs(dir, 0755);
  writeFileAtomic(file, config.dump(2) + "\n", 0644);
}

bool reloadDockerd() {
  bool found = false;
  DIR* proc = opendir("/proc");
  if (!proc) return false;
  while (dirent* entry = readdir(proc)) {
    std::string pid = entry->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string comm;
    try {
      comm = readFile("/proc/" + pid + "/comm");
    } catch (const Error&) {
      continue;
    }
    if (comm == "dockerd\n" && kill(std::stoi(pid), SIGHUP) == 0) found = true;
  }
  closedir(proc);
  return found;
}

}  // namespace runvirt::backend

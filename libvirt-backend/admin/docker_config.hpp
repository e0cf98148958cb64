// Registering runvirt as a Docker runtime: /etc/docker/daemon.json is merged, never replaced.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace runvirt::backend {

using DaemonJson = nlohmann::ordered_json;  // keeps the file's key order

struct Registration {
  std::vector<std::string> registered;  // names now pointing at runvirt
  std::vector<std::string> skipped;     // names taken by another runtime, left alone
};

// Adds {"runtimes": {name: {"path": path}}} for each name that is free or already ours (or any
// name with `replace`); with `makeDefault`, sets "default-runtime" to the first registered
// name. Other keys are untouched.
Registration registerRuntimes(DaemonJson& config, const std::vector<std::string>& names,
                              const std::string& path, bool makeDefault, bool replace = false);

// Removes every runtime whose path is `path` (and "default-runtime" if it named one of them).
// Returns the names removed.
std::vector<std::string> unregisterRuntimes(DaemonJson& config, const std::string& path);

// Reads (a missing file is `{}`), edits and atomically rewrites daemon.json.
DaemonJson readDaemonJson(const std::string& file);
void writeDaemonJson(const std::string& file, const DaemonJson& config);

// Sends SIGHUP to a running dockerd so it reloads its runtimes. False when none runs.
bool reloadDockerd();

}  // namespace runvirt::backend

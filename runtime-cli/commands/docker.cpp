// install-docker / uninstall-docker: register runvirt (and `kata`) in Docker's daemon.json.
#include <iostream>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "admin/docker_config.hpp"
#include "common/files.hpp"
#include "runvirt/error.hpp"

namespace runvirt::cli {

namespace {

void reportReload() {
  if (backend::reloadDockerd()) {
    std::cout << "dockerd reloaded its configuration\n";
  } else {
    std::cout << "dockerd is not running: the change applies when it starts\n";
  }
}

}  // namespace

int installDockerCommand(const GlobalOptions&, const Args& args) {
  DockerOptions o = parseDocker("install-docker", args);
  std::string path = o.path.empty() ? backend::executablePath() : o.path;
  std::vector<std::string> names = o.name.empty() ? std::vector<std::string>{"runvirt", "kata"}
                                                  : std::vector<std::string>{o.name};
  auto config = backend::readDaemonJson(o.daemonJson);
  auto result = backend::registerRuntimes(config, names, path, o.makeDefault, o.replace);
  backend::writeDaemonJson(o.daemonJson, config);
  for (const auto& name : result.registered)
    std::cout << "registered runtime " << name << " -> " << path << "\n";
  for (const auto& name : result.skipped) {
    std::cout << "left runtime " << name << " alone: " << o.daemonJson
              << " already names another runtime for it\n";
  }
  if (o.makeDefault && !result.registered.empty())
    std::cout << "default runtime: " << result.registered.front() << "\n";
  if (result.registered.empty()) throw Error("no runtime name was free to register");
  reportReload();
  return 0;
}

int uninstallDockerCommand(const GlobalOptions&, const Args& args) {
  DockerOptions o = parseDocker("uninstall-docker", args);
  std::string path = o.path.empty() ? backend::executablePath() : o.path;
  auto config = backend::readDaemonJson(o.daemonJson);
  auto removed = backend::unregisterRuntimes(config, path);
  if (!removed.empty()) backend::writeDaemonJson(o.daemonJson, config);
  for (const auto& name : removed) std::cout << "unregistered runtime " << name << "\n";
  if (removed.empty())
    std::cout << "no runtime in " << o.daemonJson << " points at " << path << "\n";
  reportReload();
  return 0;
}

}  // namespace runvirt::cli

#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <iostream>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "runvirt/error.hpp"
#include "runvirt/oci/state.hpp"

namespace runvirt::cli {

namespace {

std::string ownerOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) < 0) return "";
  if (passwd* pw = getpwuid(st.st_uid)) return pw->pw_name;
  return "#" + std::to_string(st.st_uid);
}

// Go's tabwriter as runc configures it: minimum width 12, padding 3.
void printTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], std::max<std::size_t>(12, row[i].size() + 3));
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size(), ' ');
    }
    std::cout << line << "\n";
  }
}

}  // namespace

int stateCommand(const GlobalOptions& global, const Args& args) {
  oci::State state = makeRuntime(global).state(parseIdOnly("state", args).id);
  std::cout << oci::toRuncStateJson(state).dump(2) << "\n";
  return 0;
}

int listCommand(const GlobalOptions& global, const Args& args) {
  ListOptions options = parseList(args);
  backend::Runtime runtime = makeRuntime(global);
  std::vector<oci::State> states = runtime.list();
  for (auto& s : states) s.owner = ownerOf(runtime.store().dir(s.id));
  if (options.quiet) {
    for (const auto& s : states) std::cout << s.id << "\n";
  } else if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : states) out.push_back(oci::toRuncStateJson(s));
    std::cout << out.dump() << "\n";
  } else {
    std::vector<std::vector<std::string>> rows = {
        {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
    for (const auto& s : states) {
      rows.push_back(
          {s.id, std::to_string(s.pid), oci::toString(s.status), s.bundle, s.created, s.owner});
    }
    printTable(rows);
  }
  return 0;
}

int psCommand(const GlobalOptions& global, const Args& args) {
  PsOptions options = parsePs(args);
  std::vector<int> pids = makeRuntime(global).processes(options.id);
  if (options.format == "json") {
    std::cout << nlohmann::json(pids).dump() << "\n";
  } else {
    std::cout << "PID\n";
    for (int pid : pids) std::cout << pid << "\n";
  }
  return 0;
}

}  // namespace runvirt::cli

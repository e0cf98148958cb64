#include "faults/host.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace runvirt::faults {

namespace {

constexpr const char* kDaemonJson = "/etc/docker/daemon.json";
constexpr const char* kVmDir = "/run/runvirt-vms";
// Docker 20.10 gives every runtime runc's --root; runvirt's records are those with a domain.
constexpr const char* kDockerRuntimeRoot = "/run/docker/runtime-runc/moby";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    closedir(d);
  }
  return out;
}

std::set<std::string> linesContaining(const std::string& text, const std::string& part) {
  std::set<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(part) != std::string::npos) out.insert(line);
  }
  return out;
}

}  // namespace

Result run(const std::vector<std::string>& argv, const std::string& input, double timeoutSeconds) {
  return testsupport::runCommand(argv, input, timeoutSeconds);
}

Result docker(const std::vector<std::string>& args, double timeoutSeconds) {
  std::vector<std::string> argv = {"docker"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, "", timeoutSeconds);
}

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void sleepFor(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

pid_t pidOf(const std::string& comm) {
  for (const auto& name : entries("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string c = readFile("/proc/" + name + "/comm");
    if (!c.empty() && c.back() == '\n') c.pop_back();
    std::string stat = readFile("/proc/" + name + "/stat");
    auto close = stat.rfind(')');
    bool zombie = close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
    if (c == comm && !zombie) return static_cast<pid_t>(std::stol(name));
  }
  return 0;
}

std::vector<pid_t> pidsWithCommandLine(const std::string& part) {
  std::vector<pid_t> out;
  for (const auto& name : entries("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = readFile("/proc/" + name + "/cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(part) != std::string::npos) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

bool alive(pid_t pid) {
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

double stopDaemon(const std::string& comm, int signal, double timeoutSeconds) {
  pid_t pid = pidOf(comm);
  if (pid == 0) return 0;
  double start = now();
  kill(pid, signal);
  while (alive(pid)) {
    if (now() - start > timeoutSeconds) {
      kill(pid, SIGKILL);
      while (alive(pid)) sleepFor(0.05);
      return -1;
    }
    sleepFor(0.05);
  }
  return now() - start;
}

void startDaemons() {
  Result r = run({"bash", "scripts/start-daemons.sh"}, "", 120);
  ASSERT_EQ(r.status, 0) << r.err;
}

Traces runvirtTraces() {
  Traces t;
  t["libvirt domain"] = linesContaining(
      run({"virsh", "-c", "qemu:///system", "list", "--all", "--name"}, "", 30).out, "runvirt-");
  t["tap device"] = linesContaining(run({"ip", "-o", "link"}).out, ": rv");
  t["mount"] = linesContaining(readFile("/proc/self/mountinfo"), std::string(" ") + kVmDir + "/");
  for (const auto& name : entries(kVmDir)) {
    if (name.rfind("runvirt-", 0) == 0) t["VM directory"].insert(name);
  }
  for (const auto& name : entries(kDockerRuntimeRoot)) {
    std::string record = readFile(std::string(kDockerRuntimeRoot) + "/" + name + "/state.json");
    if (record.find("\"domainName\"") != std::string::npos)
      t["runvirt state directory"].insert(name);
  }
  for (const auto& name : entries("/sys/fs/cgroup/memory/docker")) {
    if (name.size() == 64) t["docker cgroup"].insert(name);
  }
  return t;
}

std::string tracesAdded(const Traces& before, const Traces& after) {
  std::string added;
  for (const auto& [kind, traces] : after) {
    auto known = before.find(kind);
    for (const auto& trace : traces) {
      if (known == before.end() || !known->second.count(trace)) added += kind + ": " + trace + "\n";
    }
  }
  return added;
}

std::string setLiveRestore(bool on) {
  std::string previous = readFile(kDaemonJson);
  auto config = nlohmann::ordered_json::parse(previous.empty() ? "{}" : previous);
  if (on) {
    config["live-restore"] = true;
  } else {
    config.erase("live-restore");
  }
  std::ofstream(kDaemonJson) << config.dump(2) << "\n";
  return previous;
}

void restoreDaemonJson(const std::string& content) { std::ofstream(kDaemonJson) << content; }

}  // namespace runvirt::faults

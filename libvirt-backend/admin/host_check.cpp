#include "admin/host_check.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "common/files.hpp"
#include "common/strings.hpp"
#include "runvirt/file_io.hpp"
#include "vm/hypervisor.hpp"
#include "common/subprocess.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

CheckResult ok(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::Ok, std::move(detail)};
}
CheckResult warn(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::Warn, std::move(detail)};
}
CheckResult fail(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::Fail, std::move(detail)};
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// Runs argv with stdout+stderr captured, killed after `timeoutSeconds`. Throws when it cannot
// start.
std::string captureOutput(const std::vector<std::string>& argv, double timeoutSeconds,
                          bool& finished) {
  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) < 0) throwErrno("pipe");
  UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
  UniqueFd devNull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  SpawnOptions o;
  o.path = argv[0];
  o.argv = argv;
  o.fds = {{0, devNull.get()}, {1, writeEnd.get()}, {2, writeEnd.get()}};
  pid_t pid = spawn(o);
  writeEnd.reset();
  ReadOutcome read = readUntil(readEnd.get(), timeoutSeconds,
                               [](const std::string& out) { return out.size() >= 65536; });
  finished = read.endOfFile;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return read.output;
}

std::string firstLine(const std::string& text) {
  std::size_t end = text.find('\n');
  std::string line = text.substr(0, end);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

bool isExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

}  // namespace

std::string findProgram(const std::string& name) {
  for (const char* dir :
       {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    std::string path = std::string(dir) + "/" + name;
    if (isExecutable(path)) return path;
  }
  return "";
}

namespace {

std::vector<CgroupMount> gatherCgroups() {
  std::vector<CgroupMount> mounts;
  try {
    mounts = parseCgroupMounts(readFile("/proc/self/mounts"));
  } catch (const Error&) {
    return mounts;
  }
  for (auto& m : mounts) {
    if (!m.unified) continue;
    try {
      m.controllers =
          split(firstLine(readFile(m.mountPoint + "/cgroup.controllers")), ' ', EmptyFields::Drop);
    } catch (const Error&) {
      // An empty cgroup2 hierarchy (hybrid hosts): no controllers.
    }
  }
  return mounts;
}

DockerFacts gatherDocker(const HostCheckOptions& o) {
  DockerFacts f;
  f.installed = !findProgram("dockerd").empty();
  f.running = processRunning("dockerd");
  f.daemonJsonPath = o.daemonJson;
  f.selfPath = o.selfPath;
  try {
    if (pathExists(o.daemonJson)) f.daemonJson = readDaemonJson(o.daemonJson);
  } catch (const Error& e) {
    f.daemonJsonError = e.message();
  }
  return f;
}

CheckResult checkLibvirt(const std::string& uri) {
  try {
    auto hypervisor = connectLibvirt(uri);
    return judgeLibvirt(uri, hypervisor->versions(), "");
  } catch (const Error& e) {
    return judgeLibvirt(uri, "", e.message());
  }
}

}  // namespace

std::string formatCheck(const CheckResult& r) {
  const char* tag = r.status == CheckStatus::Ok     ? "ok    "
                    : r.status == CheckStatus::Warn ? "WARN  "
                                                    : "FAIL  ";
  return tag + r.name + ": " + r.detail;
}

bool allPassed(const std::vector<CheckResult>& results) {
  return std::none_of(results.begin(), results.end(),
                      [](const CheckResult& r) { return r.status == CheckStatus::Fail; });
}

std::string versionFromBanner(const std::string& line) {
  std::istringstream words(line);
  std::string word, previous;
  while (words >> word) {
    if (previous == "version") {
      while (!word.empty() && (word.back() == ',' || word.back() == ';')) word.pop_back();
      return word;
    }
    previous = word;
  }
  return line;
}

CheckResult judgeProgram(const std::string& name, const ProgramFacts& f) {
  if (!f.executable)
    return fail(name, f.path + " is missing or not executable (set its path in config.toml)");
  if (f.version.empty()) {
    return fail(name,
                f.path + " does not run: " + (f.error.empty() ? "it printed no version" : f.error));
  }
  return ok(name, f.path + " (" + f.version + ")");
}

CheckResult judgeConfig(const RuntimeConfig& config, const std::string& loadError) {
  if (!loadError.empty())
    return fail("config", loadError + " (the other checks use the built-in defaults)");
  if (config.source.empty())
    return ok("config", std::string("built-in defaults (no ") + kDefaultConfigPath + ")");
  return ok("config", config.source);
}

CheckResult judgeLibvirt(const std::string& uri, const std::string& versions,
                         const std::string& error) {
  if (!error.empty()) return fail("libvirt", error);
  return ok("libvirt", uri + " answers (" + versions + ")");
}

CheckResult judgeAccelerator(AcceleratorChoice choice, const KvmFacts& facts) {
  AcceleratorDecision automatic = decideAccelerator(AcceleratorChoice::Auto, facts);
  std::string evidence = describeKvmFacts(facts);
  if (choice == AcceleratorChoice::Auto)
    return ok("accelerator", automatic.reason + " [" + evidence + "]");
  if (choice == AcceleratorChoice::Tcg) {
    return ok("accelerator", "tcg: chosen in the configuration (auto would choose " +
                                 automatic.reason + ") [" + evidence + "]");
  }
  if (automatic.accelerator == Accelerator::Kvm)
    return ok("accelerator", "kvm: chosen in the configuration and usable [" + evidence + "]");
  return fail("accelerator",
              "kvm is chosen in the configuration but is not usable here, VMs would not start or "
              "would hang (" +
                  automatic.reason + "); set accelerator = \"auto\" or \"tcg\" [" + evidence + "]");
}

std::string guestImageRebuildCommand(const std::string& selfPath, const std::string& guestDir) {
  std::string bin = selfPath.substr(0, selfPath.rfind('/'));
  std::string lib = bin.substr(0, bin.rfind('/')) + "/lib/runvirt";
  return lib + "/build-guest-image --agent " + lib + "/runvirt-agent --out " + guestDir;
}

namespace {

// An initrd without modules, for a kernel with its drivers built in (the runvirt guest kernel).
void judgeBuiltinDriversInitrd(const GuestImageFacts& f, const std::string& qemuUser,
                               const std::string& rebuild, std::vector<CheckResult>& out) {
  if (!f.initrdWorldReadable) {
    out.push_back(fail("guest initrd", f.initrdPath + " is not world-readable: QEMU runs as " +
                                           qemuUser + " and cannot read it (chmod a+r)"));
  } else if (f.recordedRelease && *f.recordedRelease != f.kernelRelease) {
    out.push_back(warn("guest initrd", f.initrdPath + " (agent) but kernel-version says " +
                                           quote(*f.recordedRelease) + " and the kernel is " +
                                           f.kernelRelease + rebuild));
  } else {
    out.push_back(ok("guest initrd", f.initrdPath + " (agent; " + f.kernelRelease +
                                         " has its virtio drivers built in)"));
  }
}

}  // namespace

std::vector<CheckResult> judgeGuestImage(const GuestImageFacts& f, const std::string& qemuUser,
                                         const std::string& rebuildCommand) {
  std::vector<CheckResult> out;
  const std::string rebuild = "; rebuild: " + rebuildCommand;
  // The kernel.
  if (!f.kernelError.empty()) {
    out.push_back(fail("guest kernel", f.kernelError + rebuild));
  } else if (f.kernelRelease.empty()) {
    out.push_back(fail("guest kernel",
                       f.kernelPath + " holds no Linux banner: not a kernel image" + rebuild));
  } else if (!f.kernelPvh) {
    out.push_back(fail("guest kernel",
                       f.kernelPath + " (" + f.kernelRelease +
                           ") has no PVH entry point: QEMU cannot boot it directly" + rebuild));
  } else if (!f.kernelWorldReadable) {
    out.push_back(fail("guest kernel", f.kernelPath + " is not world-readable: QEMU runs as " +
                                           qemuUser + " and cannot read it (chmod a+r)"));
  } else {
    out.push_back(ok("guest kernel", f.kernelPath + " (" + f.kernelRelease + ", PVH)"));
  }
  // The initrd, and whether it belongs to that kernel.
  std::string release = f.moduleReleases.size() == 1 ? f.moduleReleases.front() : "";
  if (!f.initrdError.empty()) {
    out.push_back(fail("guest initrd", f.initrdError + rebuild));
  } else if (!f.initrdHasAgent) {
    out.push_back(fail("guest initrd",
                       f.initrdPath + " has no executable /init (the runvirt agent)" + rebuild));
  } else if (f.modules.empty() && f.kernelHasBuiltinVirtiofs) {
    judgeBuiltinDriversInitrd(f, qemuUser, rebuild, out);
  } else if (f.modules.empty()) {
    out.push_back(fail("guest initrd",
                       f.initrdPath + " holds no kernel modules (virtio, virtiofs)" + rebuild));
  } else if (f.moduleReleases.size() != 1) {
    out.push_back(fail("guest initrd", f.initrdPath + " mixes modules of kernels " +
                                           join(f.moduleReleases, ", ") + rebuild));
  } else if (f.kernelError.empty() && !f.kernelRelease.empty() && release != f.kernelRelease) {
    out.push_back(fail("guest initrd", f.initrdPath + " holds modules for " + release +
                                           " but the kernel is " + f.kernelRelease +
                                           ": the guest would boot without virtio" + rebuild));
  } else if (!f.initrdWorldReadable) {
    out.push_back(fail("guest initrd", f.initrdPath + " is not world-readable: QEMU runs as " +
                                           qemuUser + " and cannot read it (chmod a+r)"));
  } else if (f.recordedRelease && *f.recordedRelease != release) {
    out.push_back(warn("guest initrd", f.initrdPath + " (agent + " +
                                           std::to_string(f.modules.size()) + " modules for " +
                                           release + ") but kernel-version says " +
                                           quote(*f.recordedRelease) + rebuild));
  } else {
    out.push_back(ok("guest initrd", f.initrdPath + " (agent + " +
                                         std::to_string(f.modules.size()) + " modules for " +
                                         release + ", matching the kernel)"));
  }
  return out;
}

CheckResult judgeDocker(const DockerFacts& f) {
  if (!f.installed && !f.daemonJson)
    return ok("docker", "not installed (`runvirt install-docker` registers runvirt later)");
  if (!f.daemonJsonError.empty()) {
    return warn("docker",
                f.daemonJsonError +
                    ": Docker cannot load runvirt (fix the file, then `runvirt install-docker`)");
  }
  std::vector<std::string> ours, elsewhere, broken;
  if (f.daemonJson && f.daemonJson->is_object() && f.daemonJson->contains("runtimes") &&
      (*f.daemonJson)["runtimes"].is_object()) {
    for (const auto& [name, runtime] : (*f.daemonJson)["runtimes"].items()) {
      if (!runtime.is_object() || !runtime.contains("path") || !runtime["path"].is_string())
        continue;
      std::string path = runtime["path"].get<std::string>();
      if (path == f.selfPath) {
        ours.push_back(name);
      } else if (name == "runvirt" || name == "kata" || path.find("runvirt") != std::string::npos) {
        (isExecutable(path) ? elsewhere : broken).push_back(name + " -> " + path);
      }
    }
  }
  std::string daemon = f.running ? "dockerd running" : "dockerd not running";
  if (!broken.empty()) {
    return warn(
        "docker",
        f.daemonJsonPath + " names missing runtimes: " + join(broken, ", ") +
            " (docker run fails with them; `runvirt uninstall-docker --path P` removes them)");
  }
  if (ours.empty()) {
    std::string others =
        elsewhere.empty() ? "" : "; registered elsewhere: " + join(elsewhere, ", ");
    return warn("docker", "this runvirt (" + f.selfPath + ") is not registered in " +
                              f.daemonJsonPath + others + " (`runvirt install-docker`); " + daemon);
  }
  std::string others = elsewhere.empty() ? "" : "; also: " + join(elsewhere, ", ");
  return ok("docker", "runtimes " + join(ours, ", ") + " -> " + f.selfPath + " in " +
                          f.daemonJsonPath + others + "; " + daemon);
}

std::vector<CgroupMount> parseCgroupMounts(const std::string& procMounts) {
  std::vector<CgroupMount> out;
  std::istringstream lines(procMounts);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string source, mountPoint, type, options;
    if (!(fields >> source >> mountPoint >> type >> options)) continue;
    if (type != "cgroup" && type != "cgroup2") continue;
    if (std::any_of(out.begin(), out.end(),
                    [&](const CgroupMount& m) { return m.mountPoint == mountPoint; }))
      continue;
    CgroupMount m;
    m.mountPoint = mountPoint;
    m.unified = type == "cgroup2";
    if (!m.unified) {
      for (const auto& option : split(options, ',', EmptyFields::Drop)) {
        static const std::vector<std::string> generic = {
            "rw",    "ro",     "relatime",       "noatime",    "nosuid",
            "nodev", "noexec", "clone_children", "nsdelegate", "xattr"};
        if (std::find(generic.begin(), generic.end(), option) == generic.end() &&
            option.rfind("release_agent=", 0) != 0) {
          m.controllers.push_back(option);
        }
      }
    }
    out.push_back(m);
  }
  return out;
}

CheckResult judgeCgroups(const std::vector<CgroupMount>& mounts) {
  if (mounts.empty()) {
    return fail("cgroups",
                "no cgroup hierarchy is mounted (Docker and the container's host cgroup need one)");
  }
  std::vector<std::string> v1, parts;
  bool memory = false;
  std::string unified;
  for (const auto& m : mounts) {
    if (m.unified) {
      unified = m.mountPoint;
      memory = memory || std::count(m.controllers.begin(), m.controllers.end(), "memory");
      parts.push_back(
          "cgroup2 at " + m.mountPoint +
          (m.controllers.empty() ? " (no controllers)" : " (" + join(m.controllers, " ") + ")"));
    } else {
      memory = memory || std::count(m.controllers.begin(), m.controllers.end(), "memory");
      v1.push_back(join(m.controllers, ","));
    }
  }
  std::string kind = v1.empty() ? "v2" : unified.empty() ? "v1" : "v1 + v2 (hybrid)";
  if (!v1.empty()) parts.insert(parts.begin(), "v1 hierarchies " + join(v1, " "));
  std::string detail = kind + ": " + join(parts, "; ");
  if (!memory)
    return warn(
        "cgroups",
        detail + "; no memory controller: no memory accounting or OOM events for containers");
  return ok("cgroups", detail);
}

ProgramFacts inspectProgram(const std::string& path, double timeoutSeconds) {
  ProgramFacts f;
  f.path = path;
  f.executable = isExecutable(path);
  if (!f.executable) return f;
  try {
    bool finished = false;
    std::string out = captureOutput({path, "--version"}, timeoutSeconds, finished);
    std::string line = firstLine(out);
    if (finished && !line.empty()) {
      f.version = line;
    } else {
      f.error = finished ? "no output from --version" : "--version did not finish within 2 s";
    }
  } catch (const Error& e) {
    f.error = e.message();
  }
  return f;
}

bool processRunning(const std::string& comm) {
  DIR* proc = opendir("/proc");
  if (!proc) return false;
  bool found = false;
  while (dirent* entry = readdir(proc)) {
    std::string pid = entry->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    try {
      if (readFile("/proc/" + pid + "/comm") == comm + "\n") {
        found = true;
        break;
      }
    } catch (const Error&) {
      // The process went away.
    }
  }
  closedir(proc);
  return found;
}

std::vector<CheckResult> runHostChecks(const HostCheckOptions& o) {
  const RuntimeConfig& c = o.config;
  std::vector<CheckResult> out;
  out.push_back(judgeConfig(c, o.configError));
  out.push_back(checkLibvirt(c.libvirtUri));
  out.push_back(judgeProgram("qemu", inspectProgram(c.qemu)));
  out.push_back(judgeProgram("virtiofsd", inspectProgram(c.virtiofsd)));
  if (getpwnam(c.qemuUser.c_str()) == nullptr) {
    out.push_back(fail(
        "qemu user",
        quote(c.qemuUser) + " does not exist (libvirt runs QEMU as it; set runtime.qemu_user)"));
  }
  KvmProbeOptions probe;
  probe.stopAtFirstFailure = false;
  probe.boot = BootProbeTarget{c.qemu, c.kernel, o.bootProbeSeconds};
  out.push_back(judgeAccelerator(c.accelerator, gatherKvmFacts(probe)));
  std::string guestDir = c.initrd.substr(0, c.initrd.rfind('/'));
  for (auto& r : judgeGuestImage(inspectGuestImage(c.kernel, c.initrd), c.qemuUser,
                                 guestImageRebuildCommand(o.selfPath, guestDir))) {
    out.push_back(std::move(r));
  }
  out.push_back(judgeDocker(gatherDocker(o)));
  out.push_back(judgeCgroups(gatherCgroups()));
  return out;
}

}  // namespace runvirt::backend

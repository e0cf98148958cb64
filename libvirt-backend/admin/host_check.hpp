// `runvirt check`: can this host run containers in VMs, with which accelerator, and why. One
// result per requirement, each with its evidence on one line. The `judge*` functions are pure
// verdicts on gathered facts (unit-tested); runHostChecks gathers the facts and calls them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vm/accelerator.hpp"
#include "admin/docker_config.hpp"
#include "vm/guest_image.hpp"
#include "common/runtime_config.hpp"

namespace runvirt::backend {

enum class CheckStatus { Ok, Warn, Fail };

struct CheckResult {
  std::string name;  // "libvirt", "accelerator", "guest kernel", ...
  CheckStatus status = CheckStatus::Ok;
  std::string detail;  // what was found; for warn/fail also what it breaks and what to do
};

// "ok    libvirt: ...", "WARN  docker: ...", "FAIL  qemu: ..."
std::string formatCheck(const CheckResult& result);
// False when any check failed: runvirt cannot run a container here.
bool allPassed(const std::vector<CheckResult>& results);

// An executable runvirt starts (QEMU, virtiofsd) and the first line of its --version.
struct ProgramFacts {
  std::string path;
  bool executable = false;
  std::string version;  // "QEMU emulator version 7.2.22 (Debian ...)"; empty when it printed none
  std::string error;    // why --version failed, when it did
};
CheckResult judgeProgram(const std::string& name, const ProgramFacts& facts);

// The version word of a --version line: "QEMU emulator version 7.2.22 (Debian)" -> "7.2.22",
// "Docker version 20.10.24+dfsg1, build 5d6db84" -> "20.10.24+dfsg1"; the line itself otherwise.
std::string versionFromBanner(const std::string& line);

CheckResult judgeConfig(const RuntimeConfig& config, const std::string& loadError);

// `versions` is Hypervisor::versions(); `error` what connecting threw.
CheckResult judgeLibvirt(const std::string& uri, const std::string& versions,
                         const std::string& error);

// The fresh decision for `choice` with every fact behind it. A configured kvm that the facts
// show unusable fails: containers would hang at boot.
CheckResult judgeAccelerator(AcceleratorChoice choice, const KvmFacts& facts);

// Two results, "guest kernel" and "guest initrd": present, readable by QEMU's user (QEMU runs
// as `qemuUser` and must read both), bootable (PVH), and built for the same kernel release.
// `rebuild` is the command that rebuilds them, quoted in failures.
std::vector<CheckResult> judgeGuestImage(const GuestImageFacts& facts, const std::string& qemuUser,
                                         const std::string& rebuild);

// The build-guest-image command for an installed runvirt (<prefix>/bin/runvirt next to
// <prefix>/lib/runvirt/{build-guest-image,runvirt-agent}) writing into `guestDir`.
std::string guestImageRebuildCommand(const std::string& selfPath, const std::string& guestDir);

struct DockerFacts {
  bool installed = false;  // dockerd found
  bool running = false;    // a dockerd process exists
  std::string daemonJsonPath;
  std::optional<DaemonJson> daemonJson;  // nullopt: missing
  std::string daemonJsonError;           // non-empty: unreadable or not JSON
  std::string selfPath;                  // this runvirt binary
};
// Never a failure: runvirt runs without Docker. Warns when Docker is there but cannot use runvirt.
CheckResult judgeDocker(const DockerFacts& facts);

// One cgroup mount from /proc/self/mounts.
struct CgroupMount {
  std::string mountPoint;
  bool unified = false;  // cgroup2
  std::vector<std::string>
      controllers;  // cgroup v1: from the mount options; cgroup2: cgroup.controllers
};
std::vector<CgroupMount> parseCgroupMounts(const std::string& procMounts);
// Fails without any hierarchy (Docker and the container's host cgroup need one); warns without
// a memory controller (no `docker stats` memory, no OOM events).
CheckResult judgeCgroups(const std::vector<CgroupMount>& mounts);

struct HostCheckOptions {
  RuntimeConfig config;
  std::string configError;  // loading the config failed: checked with built-in defaults
  std::string selfPath;
  std::string daemonJson = "/etc/docker/daemon.json";
  double bootProbeSeconds = 3;
};

// Every check, in the order `runvirt check` prints them. Bounded: the KVM probes have deadlines
// (2 s and `bootProbeSeconds`), the --version calls 2 s each.
std::vector<CheckResult> runHostChecks(const HostCheckOptions& options);

// The first line QEMU or virtiofsd prints for --version (bounded by `timeoutSeconds`).
ProgramFacts inspectProgram(const std::string& path, double timeoutSeconds = 2);

// The first executable `name` in /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin,
// /bin; "" when there is none.
std::string findProgram(const std::string& name);

// A process named `comm` (as in /proc/<pid>/comm) exists.
bool processRunning(const std::string& comm);

}  // namespace runvirt::backend

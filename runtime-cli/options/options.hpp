// Plain option structs, one per command, filled by parse.cpp. No behaviour here.
#pragma once

#include <string>
#include <vector>

namespace runvirt::cli {

// runc's global flags, accepted before the verb (Docker puts runtimeArgs there too).
struct GlobalOptions {
  std::string root = "/run/runvirt";
  std::string log;
  std::string logFormat = "text";
  bool debug = false;
  bool systemdCgroup = false;  // accepted, ignored: the VM's cgroup is libvirt's
  std::string rootless;        // accepted, ignored
  std::string criu;            // accepted, ignored
  std::string config;          // runvirt's config.toml (not a runc flag)
  bool version = false;
  bool help = false;
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pidFile;
  std::string consoleSocket;
  bool noPivot = false;       // accepted, ignored: the guest always pivots
  bool noNewKeyring = false;  // accepted, ignored
  unsigned preserveFds = 0;   // accepted; extra fds cannot cross into a VM
};

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;
};

// runc exec: either --process FILE or a command line with flags.
struct ExecOptions {
  std::string id;
  std::string processFile;
  std::vector<std::string> args;
  bool tty = false;
  std::vector<std::string> env;
  std::string cwd;
  std::string user;  // uid[:gid]
  std::vector<std::string> additionalGids;
  std::vector<std::string> capabilities;
  bool noNewPrivileges = false;
  bool detach = false;
  std::string pidFile;
  std::string consoleSocket;
  unsigned preserveFds = 0;  // accepted; extra fds cannot cross into a VM
  bool ignorePaused = false;
};

struct IdOptions {
  std::string id;
};

struct KillOptions {
  std::string id;
  std::string signal = "SIGTERM";
  bool all = false;
};

struct DeleteOptions {
  std::string id;
  bool force = false;
};

struct ListOptions {
  std::string format = "table";
  bool quiet = false;
};

struct PsOptions {
  std::string id;
  std::string format = "table";
};

struct SpecOptions {
  std::string bundle = ".";
  bool rootless = false;
};

struct DockerOptions {
  std::string name;  // empty: "runvirt" and "kata"
  bool makeDefault = false;
  bool replace = false;  // take the names over even from another runtime (a test's own build)
  std::string path;      // empty: this runvirt binary
  std::string daemonJson = "/etc/docker/daemon.json";
};

// `runvirt check`: the host's readiness, one line per requirement.
struct CheckOptions {
  std::string daemonJson = "/etc/docker/daemon.json";
  double probeTimeout = 3;  // seconds for the guest kernel to boot on KVM
};

// `runvirt env`: effective configuration and component versions.
struct EnvOptions {
  bool json = false;  // JSON instead of TOML
};

// `runvirt gc`: the reaper run by hand.
struct GcOptions {
  bool dryRun = false;  // list what would be reaped, change nothing
};

// The hidden `monitor` verb `create` starts (like runc's `init`).
struct MonitorCommandOptions {
  std::string id;
  std::string consoleSocket;
  int syncFd = -1;
};

}  // namespace runvirt::cli

// Typed model of an OCI runtime-spec config.json (the subset runvirt acts on).
// Parsing is lenient (unknown fields are ignored, as the runtime-spec requires); see spec_json.hpp.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace runvirt::oci {

struct User {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::optional<std::uint32_t> umask;
  std::vector<std::uint32_t> additionalGids;
  std::string username;
};

struct ConsoleSize {
  std::uint32_t height = 0;
  std::uint32_t width = 0;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  std::uint64_t hard = 0;
  std::uint64_t soft = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> consoleSize;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool noNewPrivileges = false;
  std::string apparmorProfile;
  std::optional<int> oomScoreAdj;
  std::string selinuxLabel;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::optional<std::vector<std::string>> env;  // absent: the runtime's environment (as runc)
  std::optional<int> timeout;                   // seconds
};

struct Hooks {
  std::vector<Hook> prestart, createRuntime, createContainer, startContainer, poststart, poststop;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;  // join this namespace instead of creating one
};

struct MemoryResources {
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> reservation;
  std::optional<std::int64_t> swap;
};

struct CpuResources {
  std::optional<std::uint64_t> shares;
  std::optional<std::int64_t> quota;
  std::optional<std::uint64_t> period;
  std::string cpus;
  std::string mems;
};

struct PidsResources {
  std::int64_t limit = 0;
};

// linux.resources.devices: an allow or deny rule of the device cgroup. Absent numbers match all.
struct DeviceRule {
  bool allow = false;
  std::string type;  // "a", "c" or "b"; empty: all
  std::optional<std::int64_t> major;
  std::optional<std::int64_t> minor;
  std::string access;  // any of "rwm"
};

struct Resources {
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<PidsResources> pids;
  std::vector<DeviceRule> devices;
};

struct SeccompArg {
  std::uint32_t index = 0;
  std::uint64_t value = 0;
  std::uint64_t valueTwo = 0;
  std::string op;  // SCMP_CMP_EQ, ...
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_ALLOW, ...
  std::optional<std::uint32_t> errnoRet;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string defaultAction;
  std::optional<std::uint32_t> defaultErrnoRet;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::vector<SeccompSyscall> syscalls;
};

// linux.devices: a node the runtime creates in the container (docker run --device).
struct Device {
  std::string path;  // inside the container
  std::string type;  // "c", "u" (unbuffered character), "b" or "p"
  std::int64_t major = 0;
  std::int64_t minor = 0;
  std::optional<std::uint32_t> fileMode;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<Device> devices;
  std::optional<Resources> resources;
  std::string cgroupsPath;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  std::string mountLabel;
  bool hasUserNamespaceMappings = false;
};

struct Spec {
  std::string ociVersion;
  std::optional<Process> process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux;

  bool hasNamespace(const std::string& type) const;
  // The path of a namespace to join, empty when the namespace is new or absent.
  std::string namespacePath(const std::string& type) const;
};

}  // namespace runvirt::oci

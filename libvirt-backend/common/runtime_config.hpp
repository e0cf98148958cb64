// runvirt's own settings (config.toml): guest kernel, sizing, accelerator, libvirt URI...
// Precedence: --config flag, $RUNVIRT_CONFIG, /etc/runvirt/config.toml, built-in defaults.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace runvirt::backend {

enum class AcceleratorChoice { Auto, Kvm, Tcg };

struct RuntimeConfig {
  // [hypervisor]
  std::string kernel = "/var/lib/runvirt/guest/vmlinux";
  std::string initrd = "/var/lib/runvirt/guest/initrd.img";
  std::string qemu = "/usr/bin/qemu-system-x86_64";
  std::string virtiofsd = "/usr/lib/qemu/virtiofsd";
  AcceleratorChoice accelerator = AcceleratorChoice::Auto;
  unsigned defaultVcpus = 1;
  unsigned defaultMemoryMiB = 512;
  unsigned memoryOverheadMiB = 128;  // added to a container's memory limit for kernel + agent
  std::string sharedFs = "virtiofs";
  std::string kernelParams;  // appended to the built-in guest command line
  // TCG's translated-code cache per VM (QEMU reserves 1 GiB and an idle guest touches ~20 MB of
  // it; measured: 16 MiB saves that much per VM at no visible cost to CPU-bound work). 0 = QEMU's.
  unsigned tcgTbCacheMiB = 16;
  // [runtime]
  std::string libvirtUri = "qemu:///system";
  std::string vmDir = "/run/runvirt-vms";  // per-VM sockets, share and console log
  std::string qemuUser = "libvirt-qemu";   // QEMU runs as this user; guest assets stay root-owned
  double agentTimeoutSeconds = 60;         // domain start -> agent hello (TCG boots are slow)
  std::string logLevel = "info";  // debug (as --debug) | info | warning | error (see applyLogLevel)

  std::string source;  // the file these values came from; empty for built-in defaults
};

inline constexpr const char* kDefaultConfigPath = "/etc/runvirt/config.toml";

// Throws Error naming the file, the key and the line of a bad value.
RuntimeConfig loadRuntimeConfig(const std::string& flagPath);
RuntimeConfig parseRuntimeConfig(const std::string& text, const std::string& sourceName);

std::string toString(AcceleratorChoice choice);

// One key of a TOML table, for writing config-like files (`runvirt env`).
struct TomlEntry {
  std::string table;
  std::string key;
  std::variant<std::string, std::int64_t, double> value;
};

// Every value of `config` as [hypervisor] and [runtime] entries, in the file's key order.
std::vector<TomlEntry> runtimeConfigEntries(const RuntimeConfig& config);

// "[table]\nkey = value\n..." with a blank line between tables, strings escaped, floats with a
// decimal point. Entries of one table must be adjacent.
std::string formatToml(const std::vector<TomlEntry>& entries);

// formatToml(runtimeConfigEntries(config)): parseRuntimeConfig of it gives `config` back.
std::string formatRuntimeConfig(const RuntimeConfig& config);

// log_level: "debug" turns on debug lines as --debug does (and returns true, so the caller
// passes --debug to the processes it starts); "warning" and "error" drop the lines below them.
bool applyLogLevel(const RuntimeConfig& config);

}  // namespace runvirt::backend

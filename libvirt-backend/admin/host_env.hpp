// `runvirt env`: the effective configuration and the versions of everything runvirt runs, as
// TOML (its [hypervisor] and [runtime] tables are a valid config.toml) or JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/runtime_config.hpp"

namespace runvirt::backend {

struct EnvReport {
  // [runvirt]
  std::string version;
  std::string commit;
  std::string path;        // this binary
  std::string configFile;  // "" for built-in defaults
  int agentProtocol = 0;
  RuntimeConfig config;  // [hypervisor], [runtime]
  // [host]
  std::string hostKernel;
  std::string accelerator;  // what containers use now (the cached per-boot decision)
  std::string acceleratorReason;
  // [versions]: a version word, or "unavailable: why"
  std::string libvirt;
  std::string qemu;
  std::string virtiofsd;
  std::string docker;
  std::string guestKernel;  // the release in the guest kernel image
  std::string guestInitrd;  // the release its modules were built for
};

std::vector<TomlEntry> envEntries(const EnvReport& report);
std::string envToToml(const EnvReport& report);
nlohmann::ordered_json envToJson(const EnvReport& report);

// Fills the host and version fields for `config` (a few --version calls, one libvirt
// connection; the accelerator decision may run the short /dev/kvm probe once per boot).
EnvReport gatherEnv(const RuntimeConfig& config, const std::string& version,
                    const std::string& commit, const std::string& selfPath);

}  // namespace runvirt::backend

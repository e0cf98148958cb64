#include "admin/host_env.hpp"

#include <sys/utsname.h>

#include "runvirt/agent/protocol.hpp"
#include "vm/accelerator.hpp"
#include "vm/guest_image.hpp"
#include "admin/host_check.hpp"
#include "vm/hypervisor.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

namespace {

std::string programVersion(const std::string& path) {
  ProgramFacts f = inspectProgram(path);
  if (!f.executable) return "unavailable: " + path + " is missing";
  if (f.version.empty()) return "unavailable: " + f.error;
  return versionFromBanner(f.version);
}

// "libvirt 9.0.0, QEMU 7.2.22" -> the word after `name`.
std::string wordAfter(const std::string& text, const std::string& name) {
  auto at = text.find(name + " ");
  if (at == std::string::npos) return "";
  auto start = at + name.size() + 1;
  return text.substr(start, text.find_first_of(", ", start) - start);
}

}  // namespace

std::vector<TomlEntry> envEntries(const EnvReport& r) {
  std::vector<TomlEntry> out = {
      {"runvirt", "version", r.version},
      {"runvirt", "commit", r.commit},
      {"runvirt", "path", r.path},
      {"runvirt", "config_file", r.configFile},
      {"runvirt", "agent_protocol", std::int64_t{r.agentProtocol}},
  };
  for (auto& e : runtimeConfigEntries(r.config)) out.push_back(std::move(e));
  std::vector<TomlEntry> rest = {
      {"host", "kernel", r.hostKernel},
      {"host", "accelerator", r.accelerator},
      {"host", "accelerator_reason", r.acceleratorReason},
      {"versions", "libvirt", r.libvirt},
      {"versions", "qemu", r.qemu},
      {"versions", "virtiofsd", r.virtiofsd},
      {"versions", "docker", r.docker},
      {"versions", "guest_kernel", r.guestKernel},
      {"versions", "guest_initrd", r.guestInitrd},
  };
  for (auto& e : rest) out.push_back(std::move(e));
  return out;
}

std::string envToToml(const EnvReport& report) { return formatToml(envEntries(report)); }

nlohmann::ordered_json envToJson(const EnvReport& report) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& e : envEntries(report)) {
    std::visit([&](const auto& value) { out[e.table][e.key] = value; }, e.value);
  }
  return out;
}

EnvReport gatherEnv(const RuntimeConfig& config, const std::string& version,
                    const std::string& commit, const std::string& selfPath) {
  EnvReport r;
  r.version = version;
  r.commit = commit;
  r.path = selfPath;
  r.configFile = config.source;
  r.agentProtocol = agent::kProtocolVersion;
  r.config = config;
  utsname u{};
  if (uname(&u) == 0) r.hostKernel = u.release;
  AcceleratorDecision decision = chooseAccelerator(config.accelerator, config.vmDir);
  r.accelerator = toString(decision.accelerator);
  r.acceleratorReason = decision.reason;
  try {
    std::string versions = connectLibvirt(config.libvirtUri)->versions();
    r.libvirt = wordAfter(versions, "libvirt");
  } catch (const Error& e) {
    r.libvirt = "unavailable: " + e.message();
  }
  r.qemu = programVersion(config.qemu);
  r.virtiofsd = programVersion(config.virtiofsd);
  std::string dockerd = findProgram("dockerd");
  r.docker = dockerd.empty() ? "unavailable: dockerd is not installed" : programVersion(dockerd);
  GuestImageFacts image = inspectGuestImage(config.kernel, config.initrd);
  r.guestKernel = !image.kernelError.empty()    ? "unavailable: " + image.kernelError
                  : image.kernelRelease.empty() ? "unavailable: no Linux banner in " + config.kernel
                                                : image.kernelRelease;
  r.guestInitrd = !image.initrdError.empty()         ? "unavailable: " + image.initrdError
                  : image.moduleReleases.size() == 1 ? image.moduleReleases.front()
                  : image.moduleReleases.empty()     ? "unavailable: no modules in " + config.initrd
                                                     : "mixed";
  return r;
}

}  // namespace runvirt::backend

#include "vm/agent_spec.hpp"

#include "runvirt/oci/linux_names.hpp"

namespace runvirt::backend {

namespace {

// Names were validated with the spec; unknown ones cannot reach here.
std::uint64_t capabilityMask(const std::vector<std::string>& names) {
  std::uint64_t mask = 0;
  for (const auto& name : names) {
    if (auto n = oci::capabilityNumber(name)) mask |= std::uint64_t(1) << *n;
  }
  return mask;
}

}  // namespace

agent::ProcessSpec toAgentProcess(const oci::Process& p, const std::string& seccompBpf) {
  agent::ProcessSpec out;
  out.args = p.args;
  out.env = p.env;
  out.cwd = p.cwd.empty() ? "/" : p.cwd;
  out.uid = p.user.uid;
  out.gid = p.user.gid;
  out.additionalGids = p.user.additionalGids;
  out.username = p.user.username;
  out.umask = p.user.umask;
  out.terminal = p.terminal;
  if (p.consoleSize) {
    out.rows = static_cast<std::uint16_t>(p.consoleSize->height);
    out.cols = static_cast<std::uint16_t>(p.consoleSize->width);
  }
  for (const auto& limit : p.rlimits) {
    if (auto n = oci::rlimitNumber(limit.type)) out.rlimits.push_back({*n, limit.soft, limit.hard});
  }
  if (p.capabilities) {
    const auto& c = *p.capabilities;
    out.capabilities = agent::Capabilities{capabilityMask(c.bounding), capabilityMask(c.effective),
                                           capabilityMask(c.inheritable),
                                           capabilityMask(c.permitted), capabilityMask(c.ambient)};
  }
  out.noNewPrivileges = p.noNewPrivileges;
  out.seccompFilter = seccompBpf;
  out.oomScoreAdj = p.oomScoreAdj;
  return out;
}

agent::ContainerSpec toAgentContainer(const oci::Spec& spec, const std::string& id,
                                      std::vector<agent::Mount> mounts,
                                      const std::string& seccompBpf) {
  agent::ContainerSpec c;
  c.id = id;
  c.rootfs = "rootfs";
  c.readonlyRoot = spec.root.readonly;
  c.hostname = spec.hostname;
  c.domainname = spec.domainname;
  for (const char* ns : {"pid", "uts", "ipc", "cgroup"}) {
    if (spec.hasNamespace(ns)) c.namespaces.push_back(ns);
  }
  c.mounts = std::move(mounts);
  if (spec.linux) {
    c.maskedPaths = spec.linux->maskedPaths;
    c.readonlyPaths = spec.linux->readonlyPaths;
    c.sysctl = spec.linux->sysctl;
    if (const auto& res = spec.linux->resources) {
      if (res->memory && res->memory->limit && *res->memory->limit > 0)
        c.resources.memoryLimit = *res->memory->limit;
      if (res->pids && res->pids->limit > 0) c.resources.pidsLimit = res->pids->limit;
    }
  }
  if (spec.process) c.process = toAgentProcess(*spec.process, seccompBpf);
  return c;
}

}  // namespace runvirt::backend

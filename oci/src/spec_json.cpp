#include "runvirt/oci/spec_json.hpp"

#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/oci/validate.hpp"

namespace runvirt::oci {

using nlohmann::json;

namespace {

std::string indexPath(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// Calls parse(item, path) for every element of the array at `key`.
template <class T, class F>
std::vector<T> parseArray(FieldReader& r, const char* key, F parse) {
  std::vector<T> out;
  if (auto* items = r.array(key)) {
    for (std::size_t i = 0; i < items->size(); ++i) {
      out.push_back(parse((*items)[i], indexPath(r.childPath(key), i)));
    }
  }
  return out;
}

User parseUser(const json& j, const std::string& path, std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  User u;
  r.get("uid", u.uid, true);
  r.get("gid", u.gid, true);
  r.get("umask", u.umask);
  r.get("additionalGids", u.additionalGids);
  r.get("username", u.username);
  return u;
}

Capabilities parseCapabilities(const json& j, const std::string& path,
                               std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  Capabilities c;
  r.get("bounding", c.bounding);
  r.get("effective", c.effective);
  r.get("inheritable", c.inheritable);
  r.get("permitted", c.permitted);
  r.get("ambient", c.ambient);
  return c;
}

Mount parseMount(const json& j, const std::string& path, std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  Mount m;
  r.get("destination", m.destination, true);
  r.get("type", m.type);
  r.get("source", m.source);
  r.get("options", m.options);
  return m;
}

Hook parseHook(const json& j, const std::string& path, std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  Hook h;
  r.get("path", h.path, true);
  r.get("args", h.args);
  r.get("env", h.env);
  r.get("timeout", h.timeout);
  return h;
}

Hooks parseHooks(const json& j, const std::string& path, std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  auto list = [&](const char* key) {
    return parseArray<Hook>(r, key, [&](const json& item, const std::string& p) {
      return parseHook(item, p, problems);
    });
  };
  Hooks h;
  h.prestart = list("prestart");
  h.createRuntime = list("createRuntime");
  h.createContainer = list("createContainer");
  h.startContainer = list("startContainer");
  h.poststart = list("poststart");
  h.poststop = list("poststop");
  return h;
}

Resources parseResources(const json& j, const std::string& path, std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  Resources res;
  res.devices = parseArray<DeviceRule>(r, "devices", [&](const json& item, const std::string& p) {
    FieldReader dr(item, p, problems);
    DeviceRule rule;
    dr.get("allow", rule.allow, true);
    dr.get("type", rule.type);
    dr.get("major", rule.major);
    dr.get("minor", rule.minor);
    dr.get("access", rule.access);
    return rule;
  });
  if (auto* memory = r.object("memory")) {
    FieldReader m(*memory, r.childPath("memory"), problems);
    MemoryResources mem;
    m.get("limit", mem.limit);
    m.get("reservation", mem.reservation);
    m.get("swap", mem.swap);
    res.memory = mem;
  }
  if (auto* cpu = r.object("cpu")) {
    FieldReader c(*cpu, r.childPath("cpu"), problems);
    CpuResources cr;
    c.get("shares", cr.shares);
    c.get("quota", cr.quota);
    c.get("period", cr.period);
    c.get("cpus", cr.cpus);
    c.get("mems", cr.mems);
    res.cpu = cr;
  }
  if (auto* pids = r.object("pids")) {
    FieldReader p(*pids, r.childPath("pids"), problems);
    PidsResources pr;
    p.get("limit", pr.limit, true);
    res.pids = pr;
  }
  return res;
}

Seccomp parseSeccomp(const json& j, const std::string& path, std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  Seccomp s;
  r.get("defaultAction", s.defaultAction, true);
  r.get("defaultErrnoRet", s.defaultErrnoRet);
  r.get("architectures", s.architectures);
  r.get("flags", s.flags);
  s.syscalls =
      parseArray<SeccompSyscall>(r, "syscalls", [&](const json& item, const std::string& p) {
        FieldReader sr(item, p, problems);
        SeccompSyscall sc;
        sr.get("names", sc.names, true);
        sr.get("action", sc.action, true);
        sr.get("errnoRet", sc.errnoRet);
        sc.args = parseArray<SeccompArg>(sr, "args", [&](const json& a, const std::string& ap) {
          FieldReader ar(a, ap, problems);
          SeccompArg arg;
          ar.get("index", arg.index, true);
          ar.get("value", arg.value, true);
          ar.get("valueTwo", arg.valueTwo);
          ar.get("op", arg.op, true);
          return arg;
        });
        return sc;
      });
  return s;
}

Linux parseLinux(const json& j, const std::string& path, std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  Linux l;
  l.namespaces =
      parseArray<Namespace>(r, "namespaces", [&](const json& item, const std::string& p) {
        FieldReader nr(item, p, problems);
        Namespace ns;
        nr.get("type", ns.type, true);
        nr.get("path", ns.path);
        return ns;
      });
  l.devices = parseArray<Device>(r, "devices", [&](const json& item, const std::string& p) {
    FieldReader dr(item, p, problems);
    Device d;
    dr.get("path", d.path, true);
    dr.get("type", d.type, true);
    dr.get("major", d.major);
    dr.get("minor", d.minor);
    dr.get("fileMode", d.fileMode);
    dr.get("uid", d.uid);
    dr.get("gid", d.gid);
    return d;
  });
  if (auto* resources = r.object("resources")) {
    l.resources = parseResources(*resources, r.childPath("resources"), problems);
  }
  r.get("cgroupsPath", l.cgroupsPath);
  r.get("sysctl", l.sysctl);
  if (auto* seccomp = r.object("seccomp"))
    l.seccomp = parseSeccomp(*seccomp, r.childPath("seccomp"), problems);
  r.get("maskedPaths", l.maskedPaths);
  r.get("readonlyPaths", l.readonlyPaths);
  r.get("mountLabel", l.mountLabel);
  l.hasUserNamespaceMappings = r.has("uidMappings") || r.has("gidMappings");
  return l;
}

json toJson(const Mount& m) {
  json j = {{"destination", m.destination}, {"type", m.type}, {"source", m.source}};
  if (!m.options.empty()) j["options"] = m.options;
  return j;
}

}  // namespace

bool Spec::hasNamespace(const std::string& type) const {
  if (!linux) return false;
  for (const auto& ns : linux->namespaces) {
    if (ns.type == type) return true;
  }
  return false;
}

std::string Spec::namespacePath(const std::string& type) const {
  if (!linux) return {};
  for (const auto& ns : linux->namespaces) {
    if (ns.type == type) return ns.path;
  }
  return {};
}

Process parseProcess(const json& j, const std::string& path, std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  Process p;
  r.get("terminal", p.terminal);
  if (auto* size = r.object("consoleSize")) {
    FieldReader s(*size, r.childPath("consoleSize"), problems);
    ConsoleSize cs;
    s.get("height", cs.height, true);
    s.get("width", cs.width, true);
    p.consoleSize = cs;
  }
  if (auto* user = r.object("user", true)) p.user = parseUser(*user, r.childPath("user"), problems);
  r.get("args", p.args);
  r.get("env", p.env);
  r.get("cwd", p.cwd, true);
  if (auto* caps = r.object("capabilities")) {
    p.capabilities = parseCapabilities(*caps, r.childPath("capabilities"), problems);
  }
  p.rlimits = parseArray<Rlimit>(r, "rlimits", [&](const json& item, const std::string& ip) {
    FieldReader lr(item, ip, problems);
    Rlimit l;
    lr.get("type", l.type, true);
    lr.get("hard", l.hard, true);
    lr.get("soft", l.soft, true);
    return l;
  });
  r.get("noNewPrivileges", p.noNewPrivileges);
  r.get("apparmorProfile", p.apparmorProfile);
  r.get("oomScoreAdj", p.oomScoreAdj);
  r.get("selinuxLabel", p.selinuxLabel);
  return p;
}

Spec parseSpec(const json& j, std::vector<Problem>& problems) {
  FieldReader r(j, "", problems);
  Spec s;
  r.get("ociVersion", s.ociVersion);
  if (auto* process = r.object("process")) s.process = parseProcess(*process, "process", problems);
  if (auto* root = r.object("root", true)) {
    FieldReader rr(*root, "root", problems);
    rr.get("path", s.root.path, true);
    rr.get("readonly", s.root.readonly);
  }
  r.get("hostname", s.hostname);
  r.get("domainname", s.domainname);
  s.mounts = parseArray<Mount>(r, "mounts", [&](const json& item, const std::string& p) {
    return parseMount(item, p, problems);
  });
  if (auto* hooks = r.object("hooks")) s.hooks = parseHooks(*hooks, "hooks", problems);
  r.get("annotations", s.annotations);
  if (auto* linux = r.object("linux")) s.linux = parseLinux(*linux, "linux", problems);
  return s;
}

json toJson(const Process& p) {
  json j = {{"terminal", p.terminal},
            {"user", {{"uid", p.user.uid}, {"gid", p.user.gid}}},
            {"args", p.args},
            {"env", p.env},
            {"cwd", p.cwd}};
  if (p.consoleSize)
    j["consoleSize"] = {{"height", p.consoleSize->height}, {"width", p.consoleSize->width}};
  if (!p.user.additionalGids.empty()) j["user"]["additionalGids"] = p.user.additionalGids;
  if (p.user.umask) j["user"]["umask"] = *p.user.umask;
  if (!p.user.username.empty()) j["user"]["username"] = p.user.username;
  if (p.capabilities) {
    j["capabilities"] = {{"bounding", p.capabilities->bounding},
                         {"effective", p.capabilities->effective},
                         {"inheritable", p.capabilities->inheritable},
                         {"permitted", p.capabilities->permitted},
                         {"ambient", p.capabilities->ambient}};
  }
  if (!p.rlimits.empty()) {
    j["rlimits"] = json::array();
    for (const auto& l : p.rlimits)
      j["rlimits"].push_back({{"type", l.type}, {"hard", l.hard}, {"soft", l.soft}});
  }
  j["noNewPrivileges"] = p.noNewPrivileges;
  if (p.oomScoreAdj) j["oomScoreAdj"] = *p.oomScoreAdj;
  return j;
}

json toJson(const Spec& s) {
  json j = {{"ociVersion", s.ociVersion}};
  if (s.process) j["process"] = toJson(*s.process);
  j["root"] = {{"path", s.root.path}, {"readonly", s.root.readonly}};
  if (!s.hostname.empty()) j["hostname"] = s.hostname;
  j["mounts"] = json::array();
  for (const auto& m : s.mounts) j["mounts"].push_back(toJson(m));
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  if (s.linux) {
    json linux = json::object();
    linux["namespaces"] = json::array();
    for (const auto& ns : s.linux->namespaces) {
      json n = {{"type", ns.type}};
      if (!ns.path.empty()) n["path"] = ns.path;
      linux["namespaces"].push_back(n);
    }
    if (!s.linux->maskedPaths.empty()) linux["maskedPaths"] = s.linux->maskedPaths;
    if (!s.linux->readonlyPaths.empty()) linux["readonlyPaths"] = s.linux->readonlyPaths;
    j["linux"] = linux;
  }
  return j;
}

Spec loadSpec(const std::string& bundleDir) {
  std::string path = bundleDir + "/config.json";
  // The bundle's author picks the file; 64 MiB is far beyond any real spec (Docker's are ~20 KiB).
  std::string text = readFileBounded(path, std::size_t(64) << 20);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error("parse " + path + ": " + e.what(), ErrorKind::InvalidArgument);
  }
  std::vector<Problem> problems;
  Spec spec = parseSpec(j, problems);
  auto semantic = validate(spec);
  problems.insert(problems.end(), semantic.begin(), semantic.end());
  throwIfProblems(problems, "invalid " + path);
  return spec;
}

Spec defaultSpec() {
  Spec s;
  s.ociVersion = "1.0.2-dev";
  Process p;
  p.args = {"sh"};
  p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p.cwd = "/";
  p.terminal = true;
  std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  p.capabilities = Capabilities{caps, caps, {}, caps, caps};
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
  p.noNewPrivileges = true;
  s.process = p;
  s.root = {"rootfs", true};
  s.hostname = "runvirt";
  s.mounts = {
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
  };
  Linux l;
  l.namespaces = {{"pid", ""}, {"network", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}};
  l.maskedPaths = {"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                   "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                   "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                   "/proc/scsi"};
  l.readonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  s.linux = l;
  return s;
}

}  // namespace runvirt::oci

#include "runvirt/agent/protocol.hpp"

#include "runvirt/error.hpp"
#include "runvirt/json_fields.hpp"

namespace runvirt::agent {

using nlohmann::json;

namespace {

// ---- encoding ----

json toJson(const Capabilities& c) {
  return {{"bounding", c.bounding},
          {"effective", c.effective},
          {"inheritable", c.inheritable},
          {"permitted", c.permitted},
          {"ambient", c.ambient}};
}

json processToJson(const ProcessSpec& p) {
  json j = {{"args", p.args},         {"env", p.env},
            {"cwd", p.cwd},           {"uid", p.uid},
            {"gid", p.gid},           {"additionalGids", p.additionalGids},
            {"terminal", p.terminal}, {"noNewPrivileges", p.noNewPrivileges}};
  if (!p.username.empty()) j["username"] = p.username;
  if (p.umask) j["umask"] = *p.umask;
  if (p.rows || p.cols) j["consoleSize"] = {{"rows", p.rows}, {"cols", p.cols}};
  json limits = json::array();
  for (const auto& r : p.rlimits) {
    limits.push_back({{"resource", r.resource}, {"soft", r.soft}, {"hard", r.hard}});
  }
  j["rlimits"] = limits;
  if (p.capabilities) j["capabilities"] = toJson(*p.capabilities);
  if (!p.seccompFilter.empty()) j["seccompFilter"] = base64Encode(p.seccompFilter);
  if (p.oomScoreAdj) j["oomScoreAdj"] = *p.oomScoreAdj;
  return j;
}

json toJson(const Mount& m) {
  return {{"destination", m.destination},
          {"type", m.type},
          {"source", m.source},
          {"options", m.options}};
}

json toJson(const Device& d) {
  json j = {{"path", d.path},         {"type", d.type}, {"major", d.major}, {"minor", d.minor},
            {"fileMode", d.fileMode}, {"uid", d.uid},   {"gid", d.gid}};
  if (!d.serial.empty()) j["serial"] = d.serial;
  return j;
}

json toJson(const ContainerSpec& c) {
  json mounts = json::array();
  for (const auto& m : c.mounts) mounts.push_back(toJson(m));
  json j = {{"id", c.id},
            {"rootfs", c.rootfs},
            {"readonlyRoot", c.readonlyRoot},
            {"hostname", c.hostname},
            {"domainname", c.domainname},
            {"namespaces", c.namespaces},
            {"mounts", mounts},
            {"maskedPaths", c.maskedPaths},
            {"readonlyPaths", c.readonlyPaths},
            {"sysctl", c.sysctl},
            {"process", processToJson(c.process)}};
  if (!c.devices.empty()) {
    json devices = json::array();
    for (const auto& d : c.devices) devices.push_back(toJson(d));
    j["devices"] = devices;
  }
  if (c.resources.memoryLimit || c.resources.pidsLimit) {
    j["resources"] = {{"memoryLimit", c.resources.memoryLimit},
                      {"pidsLimit", c.resources.pidsLimit}};
  }
  return j;
}

json toJson(const ConfigureNetwork& n) {
  json interfaces = json::array();
  for (const auto& i : n.interfaces) {
    interfaces.push_back(
        {{"name", i.name}, {"mac", i.mac}, {"mtu", i.mtu}, {"addresses", i.addresses}});
  }
  json routes = json::array();
  for (const auto& r : n.routes) {
    routes.push_back(
        {{"destination", r.destination}, {"gateway", r.gateway}, {"device", r.device}});
  }
  return {{"interfaces", interfaces}, {"routes", routes}, {"dnsRelay", n.dnsRelay}};
}

constexpr const char* nameOf(const ConfigureNetwork&) { return "configure_network"; }
constexpr const char* nameOf(const CreateContainer&) { return "create_container"; }
constexpr const char* nameOf(const StartContainer&) { return "start_container"; }
constexpr const char* nameOf(const ExecProcess&) { return "exec_process"; }
constexpr const char* nameOf(const SignalProcess&) { return "signal_process"; }
constexpr const char* nameOf(const ResizeTerminal&) { return "resize_terminal"; }
constexpr const char* nameOf(const CloseStdin&) { return "close_stdin"; }
constexpr const char* nameOf(const ListProcesses&) { return "list_processes"; }
constexpr const char* nameOf(const Shutdown&) { return "shutdown"; }

struct RequestEncoder {
  json operator()(const ConfigureNetwork& r) const {
    json j = toJson(r);
    j["type"] = nameOf(r);
    return j;
  }
  json operator()(const CreateContainer& r) const {
    return {{"type", nameOf(r)}, {"container", toJson(r.container)}};
  }
  json operator()(const StartContainer& r) const {
    return {{"type", nameOf(r)}, {"container", r.container}};
  }
  json operator()(const ExecProcess& r) const {
    return {{"type", nameOf(r)},
            {"container", r.container},
            {"process", r.process},
            {"spec", processToJson(r.spec)}};
  }
  json operator()(const SignalProcess& r) const {
    return {{"type", nameOf(r)}, {"process", r.process}, {"signal", r.signal}, {"all", r.all}};
  }
  json operator()(const ResizeTerminal& r) const {
    return {{"type", nameOf(r)}, {"process", r.process}, {"rows", r.rows}, {"cols", r.cols}};
  }
  json operator()(const CloseStdin& r) const {
    return {{"type", nameOf(r)}, {"process", r.process}};
  }
  json operator()(const ListProcesses& r) const {
    return {{"type", nameOf(r)}, {"container", r.container}};
  }
  json operator()(const Shutdown& r) const { return {{"type", nameOf(r)}}; }
};

// ---- decoding ----

// Reads a JSON object strictly: every key must be consumed, every type right.
class Strict {
 public:
  Strict(const json& j, std::string path) : reader_(j, std::move(path), problems_) {}
  FieldReader& operator*() { return reader_; }
  FieldReader* operator->() { return &reader_; }
  std::vector<Problem>& problems() { return problems_; }
  void finish(const std::string& what) {
    reader_.rejectUnknownKeys();
    throwIfProblems(problems_, "invalid " + what + " message");
  }

 private:
  std::vector<Problem> problems_;
  FieldReader reader_;
};

std::uint16_t to16(std::uint32_t value, FieldReader& r, const char* key) {
  if (value > 0xffff) r.problem(r.childPath(key), "must fit in 16 bits");
  return static_cast<std::uint16_t>(value);
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
  r.rejectUnknownKeys();
  return c;
}

ProcessSpec parseProcess(const json& j, const std::string& path, std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  ProcessSpec p;
  r.get("args", p.args, true);
  r.get("env", p.env);
  r.get("cwd", p.cwd);
  r.get("uid", p.uid);
  r.get("gid", p.gid);
  r.get("additionalGids", p.additionalGids);
  r.get("username", p.username);
  r.get("umask", p.umask);
  r.get("terminal", p.terminal);
  r.get("noNewPrivileges", p.noNewPrivileges);
  if (auto* size = r.object("consoleSize")) {
    FieldReader s(*size, r.childPath("consoleSize"), problems);
    std::uint32_t rows = 0, cols = 0;
    s.get("rows", rows);
    s.get("cols", cols);
    p.rows = to16(rows, s, "rows");
    p.cols = to16(cols, s, "cols");
    s.rejectUnknownKeys();
  }
  if (auto* limits = r.array("rlimits")) {
    for (std::size_t i = 0; i < limits->size(); ++i) {
      FieldReader l((*limits)[i], r.childPath("rlimits") + "[" + std::to_string(i) + "]", problems);
      Rlimit limit;
      l.get("resource", limit.resource, true);
      l.get("soft", limit.soft, true);
      l.get("hard", limit.hard, true);
      l.rejectUnknownKeys();
      p.rlimits.push_back(limit);
    }
  }
  if (auto* caps = r.object("capabilities")) {
    p.capabilities = parseCapabilities(*caps, r.childPath("capabilities"), problems);
  }
  std::string filter;
  r.get("seccompFilter", filter);
  if (!filter.empty()) {
    try {
      p.seccompFilter = base64Decode(filter);
    } catch (const Error& e) {
      r.problem(r.childPath("seccompFilter"), e.message());
    }
  }
  r.get("oomScoreAdj", p.oomScoreAdj);
  r.rejectUnknownKeys();
  return p;
}

ContainerSpec parseContainer(const json& j, const std::string& path,
                             std::vector<Problem>& problems) {
  FieldReader r(j, path, problems);
  ContainerSpec c;
  r.get("id", c.id, true);
  r.get("rootfs", c.rootfs, true);
  r.get("readonlyRoot", c.readonlyRoot);
  r.get("hostname", c.hostname);
  r.get("domainname", c.domainname);
  r.get("namespaces", c.namespaces);
  if (auto* mounts = r.array("mounts")) {
    for (std::size_t i = 0; i < mounts->size(); ++i) {
      FieldReader m((*mounts)[i], r.childPath("mounts") + "[" + std::to_string(i) + "]", problems);
      Mount mount;
      m.get("destination", mount.destination, true);
      m.get("type", mount.type);
      m.get("source", mount.source);
      m.get("options", mount.options);
      m.rejectUnknownKeys();
      c.mounts.push_back(std::move(mount));
    }
  }
  if (auto* devices = r.array("devices")) {
    for (std::size_t i = 0; i < devices->size(); ++i) {
      FieldReader d((*devices)[i], r.childPath("devices") + "[" + std::to_string(i) + "]",
                    problems);
      Device device;
      d.get("path", device.path, true);
      d.get("type", device.type, true);
      d.get("major", device.major);
      d.get("minor", device.minor);
      d.get("serial", device.serial);
      d.get("fileMode", device.fileMode);
      d.get("uid", device.uid);
      d.get("gid", device.gid);
      d.rejectUnknownKeys();
      c.devices.push_back(std::move(device));
    }
  }
  r.get("maskedPaths", c.maskedPaths);
  r.get("readonlyPaths", c.readonlyPaths);
  r.get("sysctl", c.sysctl);
  if (auto* resources = r.object("resources")) {
    FieldReader res(*resources, r.childPath("resources"), problems);
    res.get("memoryLimit", c.resources.memoryLimit);
    res.get("pidsLimit", c.resources.pidsLimit);
    res.rejectUnknownKeys();
  }
  if (auto* process = r.object("process", true)) {
    c.process = parseProcess(*process, r.childPath("process"), problems);
  }
  r.rejectUnknownKeys();
  return c;
}

std::string messageType(const json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    throw Error("invalid message: type: is required", ErrorKind::InvalidArgument);
  }
  return j["type"].get<std::string>();
}

ConfigureNetwork parseNetwork(FieldReader& r, std::vector<Problem>& problems) {
  ConfigureNetwork n;
  if (auto* interfaces = r.array("interfaces", true)) {
    for (std::size_t i = 0; i < interfaces->size(); ++i) {
      FieldReader f((*interfaces)[i], "interfaces[" + std::to_string(i) + "]", problems);
      Interface iface;
      f.get("name", iface.name, true);
      f.get("mac", iface.mac, true);
      f.get("mtu", iface.mtu);
      f.get("addresses", iface.addresses);
      f.rejectUnknownKeys();
      n.interfaces.push_back(std::move(iface));
    }
  }
  if (auto* routes = r.array("routes")) {
    for (std::size_t i = 0; i < routes->size(); ++i) {
      FieldReader f((*routes)[i], "routes[" + std::to_string(i) + "]", problems);
      Route route;
      f.get("destination", route.destination, true);
      f.get("gateway", route.gateway);
      f.get("device", route.device);
      f.rejectUnknownKeys();
      n.routes.push_back(std::move(route));
    }
  }
  r.get("dnsRelay", n.dnsRelay);
  return n;
}

RequestBody parseRequestBody(const std::string& type, FieldReader& r,
                             std::vector<Problem>& problems) {
  if (type == "configure_network") return parseNetwork(r, problems);
  if (type == "create_container") {
    CreateContainer body;
    if (auto* c = r.object("container", true)) {
      body.container = parseContainer(*c, "container", problems);
    }
    return body;
  }
  if (type == "start_container") {
    StartContainer body;
    r.get("container", body.container, true);
    return body;
  }
  if (type == "exec_process") {
    ExecProcess body;
    r.get("container", body.container, true);
    r.get("process", body.process, true);
    if (auto* spec = r.object("spec", true)) body.spec = parseProcess(*spec, "spec", problems);
    return body;
  }
  if (type == "signal_process") {
    SignalProcess body;
    r.get("process", body.process, true);
    r.get("signal", body.signal, true);
    r.get("all", body.all);
    return body;
  }
  if (type == "resize_terminal") {
    ResizeTerminal body;
    std::uint32_t rows = 0, cols = 0;
    r.get("process", body.process, true);
    r.get("rows", rows, true);
    r.get("cols", cols, true);
    body.rows = to16(rows, r, "rows");
    body.cols = to16(cols, r, "cols");
    return body;
  }
  if (type == "close_stdin") {
    CloseStdin body;
    r.get("process", body.process, true);
    return body;
  }
  if (type == "list_processes") {
    ListProcesses body;
    r.get("container", body.container, true);
    return body;
  }
  if (type == "shutdown") return Shutdown{};
  throw Error("unknown message type " + quote(type), ErrorKind::InvalidArgument);
}

}  // namespace

json toJson(const ProcessSpec& process) { return processToJson(process); }

ProcessSpec parseProcessSpec(const json& j) {
  std::vector<Problem> problems;
  ProcessSpec spec = parseProcess(j, "process", problems);
  throwIfProblems(problems, "invalid process");
  return spec;
}

std::string requestName(const RequestBody& body) {
  return std::visit([](const auto& r) { return std::string(nameOf(r)); }, body);
}

json toJson(const GuestMessage& message) {
  return std::visit(
      [](const auto& m) -> json {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Hello>) {
          return {{"type", "hello"},
                  {"version", m.version},
                  {"arch", m.arch},
                  {"kernel", m.kernel},
                  {"uptime", m.uptime}};
        } else if constexpr (std::is_same_v<T, Response>) {
          json j = {{"type", "response"}, {"id", m.id}};
          if (!m.error.empty()) j["error"] = m.error;
          if (m.pid) j["pid"] = *m.pid;
          if (!m.pids.empty()) j["pids"] = m.pids;
          return j;
        } else {
          json j = {{"type", "exit"}, {"process", m.process}};
          if (m.signal > 0) {
            j["signal"] = m.signal;
          } else {
            j["code"] = m.code;
          }
          return j;
        }
      },
      message);
}

json toJson(const HostMessage& message) {
  return std::visit(
      [](const auto& m) -> json {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, HelloAck>) {
          return {{"type", "hello"}, {"version", m.version}};
        } else {
          json j = std::visit(RequestEncoder{}, m.body);
          j["id"] = m.id;
          return j;
        }
      },
      message);
}

GuestMessage parseGuestMessage(const json& j) {
  std::string type = messageType(j);
  Strict r(j, "");
  r->get("type", type);
  if (type == "hello") {
    Hello m;
    r->get("version", m.version, true);
    r->get("arch", m.arch, true);
    r->get("kernel", m.kernel, true);
    r->get("uptime", m.uptime);
    r.finish(type);
    return m;
  }
  if (type == "response") {
    Response m;
    r->get("id", m.id, true);
    r->get("error", m.error);
    r->get("pid", m.pid);
    if (auto* pids = r->array("pids")) {
      for (const auto& pid : *pids) {
        if (!pid.is_number_integer()) {
          r->problem("pids", "must be an array of integers");
          break;
        }
        m.pids.push_back(pid.get<int>());
      }
    }
    r.finish(type);
    return m;
  }
  if (type == "exit") {
    ProcessExited m;
    r->get("process", m.process, true);
    r->get("code", m.code);
    r->get("signal", m.signal);
    r.finish(type);
    return m;
  }
  throw Error("unknown message type " + quote(type), ErrorKind::InvalidArgument);
}

HostMessage parseHostMessage(const json& j) {
  std::string type = messageType(j);
  Strict r(j, "");
  r->get("type", type);
  if (type == "hello") {
    HelloAck m;
    r->get("version", m.version, true);
    r.finish(type);
    return m;
  }
  Request request;
  r->get("id", request.id, true);
  request.body = parseRequestBody(type, *r, r.problems());
  r.finish(type);
  return request;
}

// ---- base64 (RFC 4648, with padding) ----

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                      std::uint8_t(bytes[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    std::uint32_t n = std::uint8_t(bytes[i]) << 16;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) throw Error("invalid base64 length", ErrorKind::InvalidArgument);
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int pad = 0;
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      int v = value(c);
      if (v < 0 || pad) throw Error("invalid base64 character", ErrorKind::InvalidArgument);
      n = (n << 6) | std::uint32_t(v);
    }
    out += char(n >> 16);
    if (pad < 2) out += char((n >> 8) & 0xff);
    if (pad < 1) out += char(n & 0xff);
  }
  return out;
}

}  // namespace runvirt::agent

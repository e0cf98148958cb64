#include "control/messages.hpp"

#include "common/wait_status.hpp"
#include "runvirt/error.hpp"
#include "runvirt/json_fields.hpp"

namespace runvirt::backend::control {

using nlohmann::json;

namespace {

constexpr const char* nameOf(const Start&) { return "start"; }
constexpr const char* nameOf(const Kill&) { return "kill"; }
constexpr const char* nameOf(const ListHostPids&) { return "list_host_pids"; }
constexpr const char* nameOf(const Exec&) { return "exec"; }
constexpr const char* nameOf(const Signal&) { return "signal"; }
constexpr const char* nameOf(const Resize&) { return "resize"; }
constexpr const char* nameOf(const Done&) { return "done"; }
constexpr const char* nameOf(const Failed&) { return "failed"; }
constexpr const char* nameOf(const Started&) { return "started"; }
constexpr const char* nameOf(const HostPids&) { return "host_pids"; }
constexpr const char* nameOf(const ExecStarted&) { return "exec_started"; }
constexpr const char* nameOf(const Exited&) { return "exited"; }

// ---- encoding: the fields of each message, after "version" and "type" ----

void fields(json&, const Start&) {}
void fields(json& j, const Kill& m) {
  j["signal"] = m.signal;
  j["all"] = m.all;
}
void fields(json&, const ListHostPids&) {}
void fields(json& j, const Exec& m) { j["process"] = agent::toJson(m.process); }
void fields(json& j, const Signal& m) { j["signal"] = m.signal; }
void fields(json& j, const Resize& m) {
  j["rows"] = m.rows;
  j["cols"] = m.cols;
}
void fields(json&, const Done&) {}
void fields(json& j, const Failed& m) { j["error"] = m.error; }
void fields(json& j, const Started& m) { j["pid"] = m.pid; }
void fields(json& j, const HostPids& m) { j["pids"] = m.pids; }
void fields(json& j, const ExecStarted& m) {
  j["pid"] = m.pid;
  j["process"] = m.process;
}
void fields(json& j, const Exited& m) {
  j["code"] = m.code;
  j["signal"] = m.signal;
}

template <class Variant>
json encode(const Variant& message) {
  return std::visit(
      [](const auto& m) {
        json j = {{"version", kVersion}, {"type", nameOf(m)}};
        fields(j, m);
        return j;
      },
      message);
}

// ---- decoding: every field required, nothing else allowed ----

std::uint16_t to16(std::uint32_t value, FieldReader& r, const char* key) {
  if (value > 0xffff) r.problem(r.childPath(key), "must fit in 16 bits");
  return static_cast<std::uint16_t>(value);
}

// What a monitor passes to kill(2) or to the guest: a signal number, checked on the host.
void readSignal(FieldReader& r, int& signal) {
  r.get("signal", signal, true);
  if (r.has("signal") && !isSignalNumber(signal)) {
    std::string range = "1-" + std::to_string(kMaxSignal);
    r.problem(r.childPath("signal"), "must be a signal number (" + range + ")");
  }
}

void read(FieldReader&, Start&) {}
void read(FieldReader& r, Kill& m) {
  readSignal(r, m.signal);
  r.get("all", m.all, true);
}
void read(FieldReader&, ListHostPids&) {}
void read(FieldReader& r, Exec& m) {
  if (const json* process = r.object("process", true)) {
    try {
      m.process = agent::parseProcessSpec(*process);
    } catch (const Error& e) {
      r.problem(r.childPath("process"), e.message());
    }
  }
}
void read(FieldReader& r, Signal& m) { readSignal(r, m.signal); }
void read(FieldReader& r, Resize& m) {
  std::uint32_t rows = 0, cols = 0;
  r.get("rows", rows, true);
  r.get("cols", cols, true);
  m.rows = to16(rows, r, "rows");
  m.cols = to16(cols, r, "cols");
}
void read(FieldReader&, Done&) {}
void read(FieldReader& r, Failed& m) { r.get("error", m.error, true); }
void read(FieldReader& r, Started& m) { r.get("pid", m.pid, true); }
void read(FieldReader& r, HostPids& m) {
  if (const json* pids = r.array("pids", true)) {
    for (std::size_t i = 0; i < pids->size(); ++i) {
      const json& pid = (*pids)[i];
      if (!pid.is_number_integer()) {
        r.problem(r.childPath("pids") + "[" + std::to_string(i) + "]", "must be an integer");
        continue;
      }
      m.pids.push_back(pid.get<int>());
    }
  }
}
void read(FieldReader& r, ExecStarted& m) {
  r.get("pid", m.pid, true);
  r.get("process", m.process, true);
}
// An exec monitor ends itself like this: never with a stop signal or an out-of-range code.
void read(FieldReader& r, Exited& m) {
  r.get("code", m.code, true);
  r.get("signal", m.signal, true);
  std::string problem = exitStatusProblem(m.code, m.signal);
  if (!problem.empty()) r.problem(r.childPath(m.signal == 0 ? "code" : "signal"), problem);
}

// The alternative of `Variant` named `type`, its fields read by `r`.
template <class Variant, std::size_t I = 0>
Variant decodeAlternative(const std::string& type, FieldReader& r) {
  if constexpr (I == std::variant_size_v<Variant>) {
    throw Error("unknown control message type " + quote(type), ErrorKind::InvalidArgument);
  } else {
    using T = std::variant_alternative_t<I, Variant>;
    if (type != nameOf(T{})) return decodeAlternative<Variant, I + 1>(type, r);
    T message;
    read(r, message);
    return message;
  }
}

template <class Variant>
Variant decode(const json& j, const char* direction) {
  if (!j.is_object()) {
    throw Error(std::string("invalid control ") + direction + ": not a JSON object",
                ErrorKind::InvalidArgument);
  }
  std::vector<Problem> problems;
  FieldReader r(j, "", problems);
  int version = 0;
  std::string type;
  r.get("version", version, true);
  r.get("type", type, true);
  throwIfProblems(problems, std::string("invalid control ") + direction);
  if (version != kVersion) {
    // A monitor started by another runvirt version (an upgrade while containers run).
    throw Error("control protocol version " + std::to_string(version) + " is not this runvirt's (" +
                    std::to_string(kVersion) + ")",
                ErrorKind::InvalidArgument);
  }
  Variant message = decodeAlternative<Variant>(type, r);
  r.rejectUnknownKeys();
  throwIfProblems(problems, std::string("invalid control ") + direction + " " + quote(type));
  return message;
}

}  // namespace

json toJson(const Request& request) { return encode(request); }
json toJson(const Reply& reply) { return encode(reply); }
Request parseRequest(const json& j) { return decode<Request>(j, "request"); }
Reply parseReply(const json& j) { return decode<Reply>(j, "reply"); }

std::string typeName(const Request& request) {
  return std::visit([](const auto& m) { return std::string(nameOf(m)); }, request);
}
std::string typeName(const Reply& reply) {
  return std::visit([](const auto& m) { return std::string(nameOf(m)); }, reply);
}

}  // namespace runvirt::backend::control

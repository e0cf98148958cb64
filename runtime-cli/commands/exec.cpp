#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/json_fields.hpp"
#include "runvirt/oci/spec_json.hpp"

namespace runvirt::cli {

namespace {

// `--process` names it; containerd's are a few KiB and execve() takes at most a few MiB of args
// and env, so this bound only stops a file that never ends (/dev/zero).
constexpr std::size_t kMaxProcessFileBytes = 16u << 20;

oci::Process readProcessFile(const std::string& path) {
  std::string text;
  try {
    text = readFileBounded(path, kMaxProcessFileBytes);
  } catch (const Error& e) {
    if (e.errnum() == 0) throw;  // too large: the message names the file
    throwErrno("open process file " + path, e.errnum());
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) throw Error("parse process file " + path + ": not valid JSON");
  std::vector<Problem> problems;
  oci::Process process = oci::parseProcess(json, "process", problems);
  throwIfProblems(problems, "invalid process file " + path);
  return process;
}

std::uint32_t parseId(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    unsigned long value = std::stoul(text, &used);
    if (used == text.size() && value <= 0xffffffffUL) return static_cast<std::uint32_t>(value);
  } catch (const std::exception&) {
  }
  throw Error("parse " + what + " " + quote(text), ErrorKind::InvalidArgument);
}

// Like runc: the container's own process, changed by the command line's flags.
oci::Process processFromFlags(oci::Process process, const ExecOptions& o) {
  process.args = o.args;
  process.terminal = o.tty;
  process.env.insert(process.env.end(), o.env.begin(), o.env.end());
  if (!o.cwd.empty()) process.cwd = o.cwd;
  if (!o.user.empty()) {
    auto colon = o.user.find(':');
    process.user.uid = parseId(o.user.substr(0, colon), "uid");
    process.user.gid = colon == std::string::npos ? 0 : parseId(o.user.substr(colon + 1), "gid");
    process.user.username.clear();
  }
  for (const auto& gid : o.additionalGids)
    process.user.additionalGids.push_back(parseId(gid, "gid"));
  if (!o.capabilities.empty()) {
    if (!process.capabilities) process.capabilities = oci::Capabilities{};
    for (auto* set : {&process.capabilities->bounding, &process.capabilities->effective,
                      &process.capabilities->permitted}) {
      set->insert(set->end(), o.capabilities.begin(), o.capabilities.end());
    }
  }
  if (o.noNewPrivileges) process.noNewPrivileges = true;
  return process;
}

}  // namespace

int execCommand(const GlobalOptions& global, const Args& args) {
  ExecOptions o = parseExec(args);
  return withContext("exec failed", [&] {
    backend::Runtime runtime = makeRuntime(global);
    backend::ExecOptions request;
    request.id = o.id;
    request.process = o.processFile.empty() ? processFromFlags(runtime.containerProcess(o.id), o)
                                            : readProcessFile(o.processFile);
    request.pidFile = o.pidFile;
    request.consoleSocket = o.consoleSocket;
    request.detach = o.detach;
    return runtime.exec(request);
  });
}

}  // namespace runvirt::cli

#include "state/hooks.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "common/log.hpp"
#include "common/subprocess.hpp"
#include "runvirt/error.hpp"
#include "runvirt/oci/spec_json.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

constexpr std::size_t kMaxHookOutput = 64 << 10;

// Writes the state to the hook's stdin. A hook that exits without reading it must not kill
// runvirt with SIGPIPE (runc's hooks get EPIPE there too): block the signal for this write and
// consume the one it raised.
void writeState(int fd, const std::string& stateJson) {
  sigset_t sigpipe, old;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, &old);
  ssize_t written = write(fd, stateJson.data(), stateJson.size());
  if (written !=
      static_cast<ssize_t>(stateJson.size())) {  // EPIPE, or cut short by the hook's exit
    timespec noWait{};
    sigtimedwait(&sigpipe, nullptr, &noWait);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void runHook(const oci::Hook& hook, const std::string& stateJson) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) throwErrno("pipe");
  UniqueFd inRead(in[0]), inWrite(in[1]), outRead(out[0]), outWrite(out[1]);
  SpawnOptions options;
  options.path = hook.path;
  options.argv = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  options.env = hook.env;
  options.fds = {{0, inRead.get()}, {1, outWrite.get()}, {2, outWrite.get()}};
  pid_t pid = spawn(options);
  inRead.reset();
  outWrite.reset();
  // A state that fits in the pipe buffer cannot block us; a larger one (huge annotations)
  // waits until the hook reads it or exits.
  writeState(inWrite.get(), stateJson);
  inWrite.reset();
  // A hook that hangs keeps its stdout open: waiting for end of file alone would never time out.
  double start = log::monotonicSeconds();
  std::optional<double> timeout;
  if (hook.timeout) timeout = *hook.timeout;
  ReadOutcome read = readToEnd({outRead.get()}, timeout, kMaxHookOutput)[0];
  const std::string& output = read.output;
  std::optional<int> status;
  if (read.endOfFile) {
    double left = timeout ? *timeout - (log::monotonicSeconds() - start) : -1.0;
    status = waitWithTimeout(pid, timeout ? std::max(left, 0.0) : -1.0);
  }
  if (!status) {
    kill(pid, SIGKILL);
    waitWithTimeout(pid, -1);
    throw Error("timed out after " + std::to_string(*hook.timeout) + " s");
  }
  if (*status != 0) {
    std::string message = describeWaitStatus(*status);
    if (!output.empty()) message += ", output: " + output;
    throw Error(message);
  }
}

}  // namespace

void runHooks(const std::vector<oci::Hook>& hooks, const std::string& kind,
              const oci::State& state) {
  std::string stateJson = oci::toHookStateJson(state).dump();
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    withContext(kind + " hook #" + std::to_string(i), [&] { runHook(hooks[i], stateJson); });
  }
}

std::vector<oci::Hook> hooksFromJson(const nlohmann::json& hooks, const std::string& kind) {
  std::vector<Problem> problems;
  nlohmann::json wrapper = {{"root", {{"path", "-"}}}, {"hooks", hooks}};
  oci::Spec spec = oci::parseSpec(wrapper, problems);
  throwIfProblems(problems, "state.json hooks");
  if (kind == "poststart") return spec.hooks.poststart;
  if (kind == "poststop") return spec.hooks.poststop;
  return {};
}

nlohmann::json hooksToJson(const oci::Hooks& hooks) {
  auto list = [](const std::vector<oci::Hook>& items) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : items) {
      nlohmann::json j = {{"path", h.path}};
      if (!h.args.empty()) j["args"] = h.args;
      if (h.env) j["env"] = *h.env;
      if (h.timeout) j["timeout"] = *h.timeout;
      out.push_back(j);
    }
    return out;
  };
  return {{"poststart", list(hooks.poststart)}, {"poststop", list(hooks.poststop)}};
}

}  // namespace runvirt::backend

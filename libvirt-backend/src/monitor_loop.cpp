#include "runvirt/backend/monitor_loop.hpp"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "runvirt/backend/control.hpp"
#include "runvirt/error.hpp"
#include "runvirt/log.hpp"
#include "runvirt/oci/linux_names.hpp"

namespace runvirt::backend {

namespace {

constexpr std::size_t kMaxBufferedOutput = 4u << 20;  // stop reading the guest past this
constexpr std::size_t kMaxBufferedInput = 1u << 20;   // stop reading stdin past this
constexpr double kKillGraceSeconds = 3;               // SIGKILL in the guest, else destroy the VM
constexpr double kDrainSeconds = 10;                  // after exit, for readers of our output
constexpr double kRequestTimeout = 30;

bool ignoredByDefault(int signal) {
  return signal == SIGCHLD || signal == SIGCONT || signal == SIGURG || signal == SIGWINCH;
}

void updateStatus(const StateStore& store, const std::string& id, oci::Status status) {
  StateLock lock = store.lock(id);
  ContainerRecord record = store.load(id);
  record.status = status;
  store.save(record);
}

}  // namespace

void OutputSink::push(std::string_view bytes) {
  if (fd >= 0 && !broken) pending.append(bytes);
}

void OutputSink::writeSome() {
  ssize_t n = ::write(fd, pending.data(), std::min<std::size_t>(pending.size(), PIPE_BUF));
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    // The reader is gone (EPIPE): drop the output like a process writing to a closed pipe would.
    broken = true;
    pending.clear();
    return;
  }
  pending.erase(0, static_cast<std::size_t>(n));
}

MonitorLoop::MonitorLoop(const StateStore& store, std::string id, VmSession& session, WorkloadStdio& stdio,
                         UniqueFd controlListener, UniqueFd signals)
    : store_(store),
      id_(std::move(id)),
      session_(session),
      agent_(*session.agent),
      stdio_(stdio),
      listener_(std::move(controlListener)),
      signals_(std::move(signals)) {
  out_.fd = stdio_.out;
  err_.fd = stdio_.err >= 0 ? stdio_.err : stdio_.out;
}

bool MonitorLoop::outputDrained() const { return !out_.wantsWrite() && !err_.wantsWrite(); }

int MonitorLoop::pollTimeoutMs() const {
  double deadline = phase_ == Phase::Exited ? drainDeadline_ : killDeadline_;
  if (deadline == 0) return -1;
  double left = deadline - log::monotonicSeconds();
  return left <= 0 ? 0 : static_cast<int>(left * 1000) + 1;
}

ExitStatus MonitorLoop::run() {
  for (;;) {
    if (phase_ == Phase::Exited && (outputDrained() || log::monotonicSeconds() >= drainDeadline_)) {
      return status_;
    }
    std::vector<pollfd> fds;
    auto add = [&](int fd, short events) {
      fds.push_back({fd, events, 0});
      return fds.size() - 1;
    };
    bool readGuest = phase_ != Phase::Exited && out_.pending.size() + err_.pending.size() < kMaxBufferedOutput;
    std::size_t agentIx = add(agent_.fd(), static_cast<short>((readGuest ? POLLIN : 0) |
                                                               (agent_.pendingOutput() ? POLLOUT : 0)));
    std::size_t signalIx = add(signals_.get(), POLLIN);
    std::size_t listenIx = add(listener_.get(), POLLIN);
    bool readStdin = phase_ == Phase::Running && stdinOpen_ && stdio_.in >= 0 &&
                     agent_.pendingOutput() < kMaxBufferedInput;
    std::size_t stdinIx = readStdin ? add(stdio_.in, POLLIN) : SIZE_MAX;
    std::size_t outIx = out_.wantsWrite() ? add(out_.fd, POLLOUT) : SIZE_MAX;
    std::size_t errIx = err_.wantsWrite() && err_.fd != out_.fd ? add(err_.fd, POLLOUT) : SIZE_MAX;

    int rc = poll(fds.data(), fds.size(), pollTimeoutMs());
    if (rc < 0 && errno != EINTR) throwErrno("poll");
    if (phase_ == Phase::Running && killDeadline_ && log::monotonicSeconds() >= killDeadline_) {
      log::warn("the workload did not die within " + std::to_string(int(kKillGraceSeconds)) +
                " s of SIGKILL: destroying the VM");
      session_.hypervisor->destroy(session_.domainName);
      exitWith({0, SIGKILL});
    }
    if (rc <= 0) continue;
    auto ready = [&](std::size_t ix) { return ix != SIZE_MAX && fds[ix].revents != 0; };
    if (ready(outIx)) out_.writeSome();
    if (ready(errIx)) err_.writeSome();
    if (ready(agentIx)) handleAgent();
    if (ready(stdinIx)) handleStdin();
    if (ready(signalIx)) handleSignals();
    if (ready(listenIx)) handleControlConnection();
  }
}

void MonitorLoop::handleAgent() {
  agent_.flush();
  bool open = agent_.readAvailable();
  while (auto event = agent_.nextEvent()) handleAgentEvent(std::move(*event));
  if (!open && phase_ != Phase::Exited) {
    log::error("the container's VM stopped unexpectedly");
    exitWith({0, SIGKILL});
  }
}

void MonitorLoop::handleAgentEvent(AgentEvent event) {
  if (auto* chunk = std::get_if<OutputChunk>(&event)) {
    if (chunk->process != agent::kInitProcess) return;
    (chunk->stream == agent::Stream::Stderr ? err_ : out_).push(chunk->bytes);
  } else if (auto* exited = std::get_if<agent::ProcessExited>(&event)) {
    if (exited->process == agent::kInitProcess) exitWith({exited->code, exited->signal});
  } else if (auto* response = std::get_if<agent::Response>(&event)) {
    if (!response->error.empty()) log::debug("agent: " + response->error);
  }
}

void MonitorLoop::handleStdin() {
  char buf[65536];
  ssize_t n = ::read(stdio_.in, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    stdinOpen_ = false;
    agent_.send(agent::CloseStdin{agent::kInitProcess});
    return;
  }
  agent_.sendStdin(agent::kInitProcess, std::string_view(buf, static_cast<std::size_t>(n)));
}

void MonitorLoop::handleSignals() {
  signalfd_siginfo info{};
  while (::read(signals_.get(), &info, sizeof info) == sizeof info) {
    int signal = static_cast<int>(info.ssi_signo);
    if (signal == SIGWINCH) {
      sendResize();
    } else {
      log::debug("forwarding " + oci::signalName(signal) + " to the container");
      kill(signal, false);
    }
  }
}

void MonitorLoop::sendResize() {
  if (phase_ != Phase::Running || !stdio_.terminal) return;
  if (auto size = stdio_.currentSize()) {
    agent_.send(agent::ResizeTerminal{agent::kInitProcess, size->rows, size->cols});
  }
}

void MonitorLoop::handleControlConnection() {
  UniqueFd conn(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return;
  auto request = control::receive(conn.get());
  if (!request) return;
  nlohmann::json reply;
  try {
    reply = handleRequest(*request);
  } catch (const Error& e) {
    reply = {{"error", e.message()}};
  }
  control::reply(conn.get(), reply);
}

nlohmann::json MonitorLoop::handleRequest(const nlohmann::json& request) {
  std::string op = request.value("op", "");
  if (op == "start") return start();
  if (op == "kill") return kill(request.value("signal", SIGTERM), request.value("all", false));
  if (op == "ps") {
    if (phase_ != Phase::Running) return {{"pids", nlohmann::json::array()}};
    auto response = agent_.call(agent::ListProcesses{id_}, kRequestTimeout);
    return {{"pids", response.pids}};
  }
  throw Error("unknown monitor request " + quote(op));
}

nlohmann::json MonitorLoop::start() {
  if (phase_ == Phase::Running) throw Error("cannot start an already running container");
  if (phase_ == Phase::Exited) throw Error("cannot start a container that has stopped");
  double t0 = log::monotonicSeconds();
  agent::Response response;
  try {
    response = agent_.call(agent::StartContainer{id_}, kRequestTimeout);
  } catch (Error& e) {
    exitWith({1, 0});
    throw;
  }
  phase_ = Phase::Running;
  updateStatus(store_, id_, oci::Status::Running);
  log::debug("phase exec: workload started in " + std::to_string(log::monotonicSeconds() - t0).substr(0, 5) + " s");
  sendResize();
  return {{"pid", response.pid.value_or(0)}};
}

nlohmann::json MonitorLoop::kill(int signal, bool all) {
  if (phase_ == Phase::Exited) throw Error("container not running", ErrorKind::NotRunning);
  if (phase_ == Phase::Created) {
    // Like runc's parked init: default-fatal signals end the container before it ran.
    if (!ignoredByDefault(signal)) exitWith({0, signal});
    return nlohmann::json::object();
  }
  agent_.send(agent::SignalProcess{agent::kInitProcess, signal, all});
  if (signal == SIGKILL && !killDeadline_) killDeadline_ = log::monotonicSeconds() + kKillGraceSeconds;
  return nlohmann::json::object();
}

void MonitorLoop::exitWith(ExitStatus status) {
  if (phase_ == Phase::Exited) return;
  status_ = status;
  phase_ = Phase::Exited;
  drainDeadline_ = log::monotonicSeconds() + kDrainSeconds;
  try {
    updateStatus(store_, id_, oci::Status::Stopped);
  } catch (const Error& e) {
    log::debug("record stopped status: " + e.message());  // e.g. `delete --force` removed it
  }
}

}  // namespace runvirt::backend

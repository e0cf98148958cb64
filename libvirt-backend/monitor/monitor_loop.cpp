#include "common/durations.hpp"
#include "monitor/monitor_loop.hpp"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "runvirt/error.hpp"
#include "common/log.hpp"
#include "common/wait_status.hpp"
#include "runvirt/oci/linux_names.hpp"

namespace runvirt::backend {

namespace {

constexpr std::size_t kMaxBufferedOutput = 4u << 20;  // stop reading the guest past this
constexpr std::size_t kMaxBufferedInput = 1u << 20;   // stop reading stdin past this

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

MonitorLoop::MonitorLoop(const StateStore& store, std::string id, VmSession& session,
                         WorkloadStdio& stdio, UniqueFd controlListener, UniqueFd signals,
                         MonitorLoopTiming timing)
    : store_(store),
      id_(std::move(id)),
      session_(session),
      agent_(*session.agent),
      stdio_(stdio),
      listener_(std::move(controlListener)),
      signals_(std::move(signals)),
      timing_(timing) {
  ProcessIo& init = processes_[agent::kInitProcess];
  init.in = stdio_.in;
  init.terminal = stdio_.terminal;
  init.out.fd = stdio_.out;
  init.err.fd = stdio_.err >= 0 ? stdio_.err : stdio_.out;
}

int MonitorLoop::pollTimeoutMs() const {
  double deadline = phase_ == Phase::Exited ? drainDeadline_ : killDeadline_;
  for (const auto& [id, io] : processes_) {
    if (io.exit && (deadline == 0 || io.drainDeadline < deadline)) deadline = io.drainDeadline;
  }
  if (network_ && phase_ != Phase::Exited && network_->deadline() &&
      (deadline == 0 || network_->deadline() < deadline)) {
    deadline = network_->deadline();
  }
  if (deadline == 0) return -1;
  double left = deadline - log::monotonicSeconds();
  return left <= 0 ? 0 : static_cast<int>(left * 1000) + 1;
}

void MonitorLoop::addPollFds(std::vector<pollfd>& fds, std::vector<Handler>& handlers) {
  auto add = [&](int fd, short events, Handler handler) {
    fds.push_back({fd, events, 0});
    handlers.push_back(std::move(handler));
  };
  std::size_t buffered = 0;
  for (const auto& [id, io] : processes_) buffered += io.out.pending.size() + io.err.pending.size();
  // Once the container has exited the guest has nothing more to say, and a channel it closed
  // would report POLLHUP to every poll while the output drains.
  if (phase_ != Phase::Exited) {
    bool readGuest = buffered < kMaxBufferedOutput;
    add(agent_.fd(),
        static_cast<short>((readGuest ? POLLIN : 0) | (agent_.pendingOutput() ? POLLOUT : 0)),
        [this] { handleAgent(); });
  }
  add(signals_.get(), POLLIN, [this] { handleSignals(); });
  if (network_ && phase_ != Phase::Exited)
    add(network_->fd(), POLLIN, [this] { network_->onEvents(); });
  for (const auto& virtiofsd : session_.virtiofsd) {
    if (phase_ != Phase::Exited) add(virtiofsd.get(), POLLIN, [this] { handleFileSystemLost(); });
  }
  add(listener_.get(), POLLIN, [this] { handleControlConnection(); });
  for (auto& [id, io] : processes_) {
    ProcessIo* p = &io;
    bool started = id != agent::kInitProcess || phase_ == Phase::Running;
    if (started && !io.exit && io.inputOpen && io.in >= 0 &&
        agent_.pendingOutput() < kMaxBufferedInput) {
      add(io.in, POLLIN, [this, p] { handleInput(*p); });
    }
    if (io.out.wantsWrite()) add(io.out.fd, POLLOUT, [p] { p->out.writeSome(); });
    if (io.err.wantsWrite() && io.err.fd != io.out.fd)
      add(io.err.fd, POLLOUT, [p] { p->err.writeSome(); });
    if (io.session) add(io.session.get(), POLLIN, [this, p] { handleSessionMessage(*p); });
  }
}

ExitStatus MonitorLoop::run() {
  for (;;) {
    // What came with the response to a call (start, exec) waits in the client: the socket
    // will not report it again.
    handleAgentEvents();
    // A flood met during a call (exec, network) broke the channel: the guest goes now, even if
    // it sends nothing more that would wake the loop.
    if (agent_.flooded() && phase_ != Phase::Exited) handleAgent();
    finishExecs();
    if (phase_ == Phase::Exited && (processes_.at(agent::kInitProcess).outputDrained() ||
                                    log::monotonicSeconds() >= drainDeadline_)) {
      return status_;
    }
    std::vector<pollfd> fds;
    std::vector<Handler> handlers;
    addPollFds(fds, handlers);
    int rc = poll(fds.data(), fds.size(), pollTimeoutMs());
    if (rc < 0 && errno != EINTR) throwErrno("poll");
    if (phase_ == Phase::Running && killDeadline_ && log::monotonicSeconds() >= killDeadline_) {
      log::warn("the workload did not die within " + formatSeconds(timing_.killGraceSeconds, 1) +
                " of SIGKILL: destroying the VM");
      session_.destroy();
      exitWith({0, SIGKILL});
    }
    if (network_ && phase_ != Phase::Exited && network_->deadline() &&
        log::monotonicSeconds() >= network_->deadline()) {
      network_->sync();
    }
    if (rc <= 0) continue;
    // Handlers may add or remove processes: run them after the scan, not during it.
    std::vector<Handler> ready;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents) ready.push_back(handlers[i]);
    }
    for (auto& handler : ready) handler();
  }
}

void MonitorLoop::handleAgent() {
  bool open;
  try {
    agent_.flush();
    open = agent_.readAvailable();
  } catch (const Error& e) {
    // A guest that breaks the protocol cannot be controlled any more: what it sent before still
    // counts, then it goes as a crashed VM would, rather than run on while our output drains.
    handleAgentEvents();
    log::error("agent channel: " + e.message() + ": destroying the VM");
    session_.destroy();
    exitWith({0, SIGKILL});
    return;
  }
  handleAgentEvents();
  if (!open && phase_ != Phase::Exited) {
    log::warn(
        "the container's VM stopped without its process exiting first (destroyed or crashed)");
    exitWith({0, SIGKILL});
  }
}

void MonitorLoop::handleAgentEvents() {
  while (auto event = agent_.nextEvent()) handleAgentEvent(std::move(*event));
}

void MonitorLoop::handleAgentEvent(AgentEvent event) {
  if (auto* chunk = std::get_if<OutputChunk>(&event)) {
    auto it = processes_.find(chunk->process);
    if (it == processes_.end()) return;
    ProcessIo& io = it->second;
    // Streams that share an fd (a terminal's) share its sink: the loop writes only that one.
    bool ownSink = chunk->stream == agent::Stream::Stderr && io.err.fd != io.out.fd;
    (ownSink ? io.err : io.out).push(chunk->bytes);
  } else if (auto* exited = std::get_if<agent::ProcessExited>(&event)) {
    ExitStatus status{exited->code, exited->signal};
    if (exited->process == agent::kInitProcess) {
      exitWith(status);
    } else if (auto it = processes_.find(exited->process); it != processes_.end()) {
      it->second.exit = status;
      it->second.drainDeadline = log::monotonicSeconds() + timing_.drainSeconds;
    }
  } else if (auto* response = std::get_if<agent::Response>(&event)) {
    if (!response->error.empty()) log::debug("agent: " + response->error);
  }
}

void MonitorLoop::handleInput(ProcessIo& io) {
  char buf[65536];
  ssize_t n = ::read(io.in, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    io.inputOpen = false;
    if (!io.terminal) agent_.send(agent::CloseStdin{io.id});
    return;
  }
  agent_.sendStdin(io.id, std::string_view(buf, static_cast<std::size_t>(n)));
}

// virtiofsd exited (killed, crashed): the guest's file system is gone and every access to it
// would hang. The container ends as if killed; nothing of it can be saved.
void MonitorLoop::handleFileSystemLost() {
  log::error("the VM's virtiofsd exited: the container's file system is gone; stopping the VM");
  session_.destroy();
  exitWith({0, SIGKILL});
}

void MonitorLoop::handleSignals() {
  signalfd_siginfo info{};
  while (::read(signals_.get(), &info, sizeof info) == sizeof info) {
    int signal = static_cast<int>(info.ssi_signo);
    if (signal == SIGWINCH) {
      sendResize(processes_.at(agent::kInitProcess), stdio_.currentSize());
    } else {
      log::debug("forwarding " + oci::signalName(signal) + " to the container");
      try {
        kill(signal, false);
      } catch (const Error& e) {
        log::debug("forward " + oci::signalName(signal) + ": " + e.message());
      }
    }
  }
}

void MonitorLoop::sendResize(const ProcessIo& io, std::optional<WindowSize> size) {
  if (!io.terminal || !size || (io.id == agent::kInitProcess && phase_ != Phase::Running)) return;
  agent_.send(agent::ResizeTerminal{io.id, size->rows, size->cols});
}

void MonitorLoop::handleControlConnection() {
  UniqueFd conn(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return;
  // A client that connects and says nothing must not stall the loop.
  auto wholeSeconds = static_cast<long>(timing_.controlReceiveSeconds);
  timeval wait{wholeSeconds,
               static_cast<long>((timing_.controlReceiveSeconds - double(wholeSeconds)) * 1e6)};
  setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  control::Reply reply;
  try {
    auto received = control::receiveRequest(conn.get());
    if (!received) return;
    reply = handleRequest(*received, conn);
  } catch (const Error& e) {
    reply = control::Failed{e.message()};
  }
  // An exec session took the connection: its reply went out with it.
  if (conn) control::sendIfConnected(conn.get(), reply);
}

control::Reply MonitorLoop::handleRequest(control::ReceivedRequest& received,
                                          UniqueFd& connection) {
  return std::visit(
      [&](auto& request) -> control::Reply {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, control::Start>) {
          return start();
        } else if constexpr (std::is_same_v<T, control::Kill>) {
          return kill(request.signal, request.all);
        } else if constexpr (std::is_same_v<T, control::Exec>) {
          return exec(std::move(request.process), std::move(received.fds), connection);
        } else if constexpr (std::is_same_v<T, control::ListHostPids>) {
          return control::HostPids{hostPids()};
        } else {
          static_assert(std::is_same_v<T, control::Signal> || std::is_same_v<T, control::Resize>);
          throw Error(control::typeName(request) + " belongs to an exec session",
                      ErrorKind::InvalidArgument);
        }
      },
      received.request);
}

control::Reply MonitorLoop::start() {
  if (phase_ == Phase::Running) throw Error("cannot start an already running container");
  if (phase_ == Phase::Exited) throw Error("cannot start a container that has stopped");
  double t0 = log::monotonicSeconds();
  // Interfaces that came after create (Docker 28 moves its veth in between) are the
  // workload's from its first instruction.
  if (network_) network_->sync();
  agent::Response response;
  try {
    response = agent_.call(agent::StartContainer{id_}, timing_.requestTimeoutSeconds);
  } catch (Error& e) {
    exitWith({1, 0});
    throw;
  }
  phase_ = Phase::Running;
  updateStatus(store_, id_, oci::Status::Running);
  log::debug("phase exec: workload started in " + formatSeconds(log::monotonicSeconds() - t0));
  sendResize(processes_.at(agent::kInitProcess), stdio_.currentSize());
  return control::Started{response.pid.value_or(0)};
}

control::Reply MonitorLoop::kill(int signal, bool all) {
  if (!isSignalNumber(signal)) {
    throw Error("invalid signal " + std::to_string(signal), ErrorKind::InvalidArgument);
  }
  if (phase_ == Phase::Exited) throw Error("container not running", ErrorKind::NotRunning);
  if (phase_ == Phase::Created) {
    // Like runc's parked init: default-fatal signals end the container before it ran.
    if (isFatalSignal(signal)) exitWith({0, signal});
    return control::Done{};
  }
  agent_.send(agent::SignalProcess{agent::kInitProcess, signal, all});
  if (signal == SIGKILL && !killDeadline_)
    killDeadline_ = log::monotonicSeconds() + timing_.killGraceSeconds;
  return control::Done{};
}

// Runs one more process in the container. The connection stays open until it exits: the exec
// monitor on its other end is the pid Docker waits for.
control::Reply MonitorLoop::exec(agent::ProcessSpec spec, std::vector<UniqueFd> fds,
                                 UniqueFd& connection) {
  if (phase_ == Phase::Exited) throw Error("cannot exec in a stopped container");
  std::size_t expectedFds = spec.terminal ? 1 : 3;
  if (fds.size() != expectedFds)
    throw Error("exec: expected " + std::to_string(expectedFds) + " fds");
  agent::ProcessId id = nextExecId_++;
  ProcessIo io;
  io.id = id;
  io.terminal = spec.terminal;
  io.owned = std::move(fds);
  io.in = io.owned[0].get();
  io.out.fd = spec.terminal ? io.owned[0].get() : io.owned[1].get();
  io.err.fd = spec.terminal ? io.owned[0].get() : io.owned[2].get();
  agent::Response response = withContext("unable to start container process", [&] {
    return agent_.call(agent::ExecProcess{id_, id, std::move(spec)}, timing_.requestTimeoutSeconds);
  });
  // Tracked whatever becomes of the reply: the process runs in the guest now. An exec monitor
  // that left before it came leaves a session at end of file, which has the process killed.
  io.session = std::move(connection);
  ProcessIo& added = processes_.emplace(id, std::move(io)).first->second;
  control::sendIfConnected(added.session.get(), control::ExecStarted{response.pid.value_or(0), id});
  return control::Done{};
}

// `docker top` runs the host's ps on the pids `runvirt ps` gives: the host processes that stand
// for the container's processes are this monitor and the exec monitors.
std::vector<int> MonitorLoop::hostPids() const {
  std::vector<int> pids = {getpid()};
  for (const auto& [id, io] : processes_) {
    ucred peer{};
    socklen_t size = sizeof peer;
    if (io.session && getsockopt(io.session.get(), SOL_SOCKET, SO_PEERCRED, &peer, &size) == 0) {
      pids.push_back(peer.pid);
    }
  }
  return pids;
}

void MonitorLoop::handleSessionMessage(ProcessIo& io) {
  std::optional<control::ReceivedRequest> message;
  try {
    message = control::receiveRequest(io.session.get());
  } catch (const Error& e) {
    log::warn("exec session of process " + std::to_string(io.id) + ": " + e.message());
    return;
  }
  if (!message) {
    // The exec monitor is gone (killed): its process must not outlive it unseen.
    if (!io.exit) agent_.send(agent::SignalProcess{io.id, SIGKILL, false});
    io.session.reset();
    io.exit = io.exit.value_or(ExitStatus{0, SIGKILL});
    return;
  }
  if (auto* signal = std::get_if<control::Signal>(&message->request); signal && !io.exit) {
    agent_.send(agent::SignalProcess{io.id, signal->signal, false});
  } else if (auto* resize = std::get_if<control::Resize>(&message->request)) {
    sendResize(io, WindowSize{resize->rows, resize->cols});
  }
}

// Reports exec'd processes whose output has drained (or waited long enough) and forgets them.
void MonitorLoop::finishExecs() {
  double now = log::monotonicSeconds();
  for (auto it = processes_.begin(); it != processes_.end();) {
    ProcessIo& io = it->second;
    bool done = it->first != agent::kInitProcess && io.exit &&
                (io.outputDrained() || now >= io.drainDeadline);
    if (!done) {
      ++it;
      continue;
    }
    if (io.session)
      control::sendIfConnected(io.session.get(), control::Exited{io.exit->code, io.exit->signal});
    it = processes_.erase(it);
  }
}

void MonitorLoop::exitWith(ExitStatus status) {
  if (phase_ == Phase::Exited) return;
  status_ = status;
  phase_ = Phase::Exited;
  drainDeadline_ = log::monotonicSeconds() + timing_.drainSeconds;
  // With its init gone the container's other processes are gone too (its pid namespace).
  for (auto& [id, io] : processes_) {
    if (id != agent::kInitProcess && !io.exit) {
      io.exit = ExitStatus{0, SIGKILL};
      io.drainDeadline = drainDeadline_;
    }
  }
  try {
    updateStatus(store_, id_, oci::Status::Stopped);
  } catch (const Error& e) {
    log::debug("record stopped status: " + e.message());  // e.g. `delete --force` removed it
  }
}

}  // namespace runvirt::backend

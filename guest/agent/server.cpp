#include "server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "boot.hpp"
#include "log.hpp"
#include "network.hpp"
#include "replies.hpp"
#include "runvirt/error.hpp"
#include "syscalls.hpp"

namespace runvirt::agent {

namespace {

// After the host disconnects the port reads end of file at once; look again this much later.
constexpr auto kPortRetry = std::chrono::milliseconds(100);
// The DNS port appears with the agent's own (same virtio-serial device): no long wait.
constexpr auto kDnsPortWait = std::chrono::seconds(1);

UniqueFd blockAndWatchChildSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) throwErrno("block SIGCHLD");
  UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd) throwErrno("signalfd");
  return fd;
}

template <class Duration>
int toMs(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms < 0 ? 0 : int(ms) + 1;
}

}  // namespace

Server::Server(Channel& channel)
    : channel_(channel),
      childSignals_(blockAndWatchChildSignals()),
      processes_([this](const std::string& frame) { channel_.send(frame); }),
      containers_(processes_, [this](const Response& r) { respond(r); }) {}

void Server::run() {
  for (;;) pollOnce();
}

void Server::pollOnce() {
  handleDecodedFrames();  // the hello exchange may have read requests that followed it
  auto now = Clock::now();
  PollSet set;
  bool portWaiting = now < portRetryAt_;
  if (!portWaiting) set.add(channel_.fd(), POLLIN, [this](short) { onPortReadable(); });
  // Sync channels before SIGCHLD: an exec'd process's pid must be known when it is reaped.
  containers_.addToPoll(set);
  set.add(childSignals_.get(), POLLIN, [this](short) { onChildExited(); });
  processes_.addToPoll(set);
  if (dns_) dns_->addToPoll(set, now);

  int timeout = processes_.msUntilNextDeadline(now);
  if (dns_) {
    int dnsMs = dns_->msUntilNextDeadline(now);
    if (dnsMs >= 0) timeout = timeout < 0 ? dnsMs : std::min(timeout, dnsMs);
  }
  if (portWaiting) {
    int portMs = toMs(portRetryAt_ - now);
    timeout = timeout < 0 ? portMs : std::min(timeout, portMs);
  }
  set.wait(timeout);
  processes_.finishExits(Clock::now());
}

void Server::onPortReadable() {
  if (!channel_.readAvailable()) {
    log::debug("host disconnected from the channel");
    portRetryAt_ = Clock::now() + kPortRetry;
    return;
  }
  handleDecodedFrames();
}

void Server::handleDecodedFrames() {
  while (auto frame = channel_.nextFrame()) {
    try {
      handleFrame(*frame);
    } catch (const std::exception& e) {
      log::warn("dropped a frame from the host: %s", e.what());
    }
  }
}

void Server::onChildExited() {
  signalfd_siginfo info;
  while (::read(childSignals_.get(), &info, sizeof info) == sizeof info) {
  }
  for (ProcessId id : processes_.reapChildren()) containers_.onProcessExited(id);
}

void Server::handleFrame(const Frame& frame) {
  if (frame.type == FrameType::Data) {
    DataChunk chunk = decodeData(frame.payload);
    if (chunk.stream == Stream::Stdin) processes_.queueInput(chunk.process, chunk.bytes);
    return;
  }
  handleMessage(decodeMessage(frame.payload));
}

void Server::handleMessage(const nlohmann::json& json) {
  HostMessage message;
  try {
    message = parseHostMessage(json);
  } catch (const Error& e) {
    // Answer a malformed request that has an id, so the host does not wait for it.
    if (json.is_object() && json.contains("id") && json["id"].is_number_unsigned()) {
      log::debug("rejected request: %s", e.what());
      respond(errorReply(json["id"].get<std::uint64_t>(), e.what()));
      return;
    }
    throw;
  }
  if (const auto* request = std::get_if<Request>(&message)) {
    handleRequest(*request);
  } else {
    log::debug("ignoring a repeated hello from the host");
  }
}

void Server::handleRequest(const Request& request) {
  log::debug("request %llu: %s", static_cast<unsigned long long>(request.id),
             requestName(request.body).c_str());
  const std::uint64_t id = request.id;
  try {
    std::visit(
        [&](const auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, CreateContainer>) {
            containers_.create(id, body.container);
          } else if constexpr (std::is_same_v<T, StartContainer>) {
            containers_.start(id, body.container);
          } else if constexpr (std::is_same_v<T, ExecProcess>) {
            containers_.exec(id, body);
          } else if constexpr (std::is_same_v<T, SignalProcess>) {
            respond(signalProcess(id, body));
          } else if constexpr (std::is_same_v<T, ResizeTerminal>) {
            respond(resizeTerminal(id, body));
          } else if constexpr (std::is_same_v<T, CloseStdin>) {
            processes_.closeInput(body.process);
            respond(okReply(id));
          } else if constexpr (std::is_same_v<T, ListProcesses>) {
            respond(listProcesses(id, body));
          } else if constexpr (std::is_same_v<T, ConfigureNetwork>) {
            respond(setUpNetwork(id, body));
          } else {
            static_assert(std::is_same_v<T, Shutdown>, "every request type needs a handler");
            shutdown(id);
          }
        },
        request.body);
  } catch (const std::exception& e) {
    log::debug("request %llu failed: %s", static_cast<unsigned long long>(id), e.what());
    respond(errorReply(id, e.what()));
  }
}

void Server::respond(const Response& response) {
  channel_.send(encodeMessage(toJson(GuestMessage{response})));
}

Response Server::signalProcess(std::uint64_t id, const SignalProcess& request) {
  ProcessRecord* record = processes_.find(request.process);
  if (!record)
    throw Error("process " + std::to_string(request.process) + " not found", ErrorKind::NotFound);
  if (record->exited() || record->pid <= 0)
    throw Error("process already finished", ErrorKind::NotRunning);
  if (request.all) {
    for (int pid : containers_.pidsOf(containers_.get(record->container))) {
      if (::kill(pid, request.signal) != 0 && errno != ESRCH) {
        throwErrno("kill " + std::to_string(pid) + " with signal " +
                   std::to_string(request.signal));
      }
    }
  } else if (::kill(record->pid, request.signal) != 0) {
    if (errno == ESRCH) throw Error("process already finished", ErrorKind::NotRunning);
    throwErrno("kill " + std::to_string(record->pid) + " with signal " +
               std::to_string(request.signal));
  }
  return okReply(id);
}

Response Server::resizeTerminal(std::uint64_t id, const ResizeTerminal& request) {
  ProcessRecord* record = processes_.find(request.process);
  if (!record)
    throw Error("process " + std::to_string(request.process) + " not found", ErrorKind::NotFound);
  if (!record->terminal || !record->output) {
    throw Error("process " + std::to_string(request.process) + " has no terminal",
                ErrorKind::InvalidArgument);
  }
  winsize size{request.rows, request.cols, 0, 0};
  if (::ioctl(record->output.get(), TIOCSWINSZ, &size) != 0) throwErrno("resize terminal");
  return okReply(id);
}

Response Server::listProcesses(std::uint64_t id, const ListProcesses& request) {
  Response response = okReply(id);
  response.pids = containers_.pidsOf(containers_.get(request.container));
  return response;
}

Response Server::setUpNetwork(std::uint64_t id, const ConfigureNetwork& request) {
  configureNetwork(request);
  if (request.dnsRelay && !dns_) {
    sockaddr_in listen{};
    listen.sin_family = AF_INET;
    listen.sin_port = htons(53);
    inet_pton(AF_INET, std::string(kDnsAddress).c_str(), &listen.sin_addr);
    dns_ = withContext("DNS relay", [&] {
      return std::make_unique<DnsRelay>(openVirtioPort(kDnsChannelName, kDnsPortWait, O_NONBLOCK),
                                        listen);
    });
  }
  return okReply(id);
}

void Server::shutdown(std::uint64_t id) {
  respond(okReply(id));
  log::debug("shutting down");
  ::sync();
  sys::rebootNow();
}

}  // namespace runvirt::agent

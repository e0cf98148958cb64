#include "fakes/fake_agent.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>

#include "runvirt/error.hpp"

namespace runvirt::test {

namespace {

// Guest pids the fake reports: process n runs as pid kFirstPid + n.
constexpr int kFirstPid = 100;

int pidOf(agent::ProcessId process) { return kFirstPid + static_cast<int>(process); }

std::string header(std::uint32_t length, std::uint8_t type) {
  return {char(length >> 24), char((length >> 16) & 0xff), char((length >> 8) & 0xff),
          char(length & 0xff), char(type)};
}

}  // namespace

std::vector<std::string> FakeAgent::Recorded::requestTypes() const {
  std::vector<std::string> types;
  for (const auto& request : requests) types.push_back(agent::requestName(request.body));
  return types;
}

FakeAgent::FakeAgent(Options options) : options_(std::move(options)) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) throwErrno("socketpair");
  channel_.reset(fds[0]);
  hostEnd_.reset(fds[1]);  // left blocking: AgentClient::adopt must make it non-blocking itself
  if (fcntl(channel_.get(), F_SETFL, O_NONBLOCK) < 0)
    throwErrno("make the fake agent's end non-blocking");
  start();
}

FakeAgent::FakeAgent(const std::string& socketPath, Options options)
    : options_(std::move(options)), socketPath_(socketPath) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof addr.sun_path)
    throw Error("fake agent socket path too long: " + socketPath);
  std::strncpy(addr.sun_path, socketPath.c_str(), sizeof addr.sun_path - 1);
  listener_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener_) throwErrno("socket");
  unlink(socketPath.c_str());
  if (bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    throwErrno("bind " + socketPath);
  if (listen(listener_.get(), 1) < 0) throwErrno("listen on " + socketPath);
  start();
}

FakeAgent::~FakeAgent() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
  if (!socketPath_.empty()) unlink(socketPath_.c_str());
}

void FakeAgent::start() {
  wakeFd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wakeFd_) throwErrno("eventfd");
  thread_ = std::thread([this] { serve(); });
}

UniqueFd FakeAgent::takeHostEnd() { return std::move(hostEnd_); }

agent::Hello FakeAgent::hostHello() {
  utsname host{};
  uname(&host);
  return {agent::kProtocolVersion, host.machine, "6.1.0-runvirt-fake", 0.25};
}

// ---- scripting and sending (any thread) ----

void FakeAgent::answer(const std::string& requestType, Answer answer) {
  std::lock_guard lock(mutex_);
  answers_[requestType] = std::move(answer);
}

void FakeAgent::onStart(ProcessScript script) {
  std::lock_guard lock(mutex_);
  startScript_ = std::move(script);
}

void FakeAgent::onExec(ProcessScript script) {
  std::lock_guard lock(mutex_);
  execScript_ = std::move(script);
}

void FakeAgent::sendOutput(agent::ProcessId process, agent::Stream stream, std::string bytes) {
  std::lock_guard lock(mutex_);
  queueOutput(process, stream, bytes);
}

void FakeAgent::sendExit(agent::ProcessId process, int code) {
  std::lock_guard lock(mutex_);
  queueExit({process, code, 0});
}

void FakeAgent::sendKilled(agent::ProcessId process, int signal) {
  std::lock_guard lock(mutex_);
  queueExit({process, 0, signal});
}

void FakeAgent::sendMessage(const agent::GuestMessage& message) {
  std::lock_guard lock(mutex_);
  queueMessage(message);
}

void FakeAgent::sendRaw(std::string bytes) {
  std::lock_guard lock(mutex_);
  queue(std::move(bytes));
}

void FakeAgent::closeChannel() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake();
}

std::string FakeAgent::oversizedFrameHeader() {
  return header(static_cast<std::uint32_t>(agent::kMaxFramePayload + 1),
                std::uint8_t(agent::FrameType::Message));
}

std::string FakeAgent::unknownFrameType() { return header(2, 7) + "hi"; }

std::string FakeAgent::malformedJson() {
  return agent::encodeFrame(agent::FrameType::Message, R"({"type": "response", "id": )");
}

// ---- what it saw ----

FakeAgent::Recorded FakeAgent::recorded() const {
  std::lock_guard lock(mutex_);
  return recorded_;
}

bool FakeAgent::waitUntil(const std::function<bool(const Recorded&)>& condition,
                          double timeoutSeconds) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::duration<double>(timeoutSeconds),
                           [&] { return condition(recorded_); });
}

bool FakeAgent::waitForRequests(std::size_t count, double timeoutSeconds) const {
  return waitUntil([count](const Recorded& r) { return r.requests.size() >= count; },
                   timeoutSeconds);
}

// ---- the fake's thread ----

void FakeAgent::serve() {
  try {
    if (!listener_ || acceptHost()) exchange();
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    recorded_.protocolErrors.push_back(std::string("fake agent: ") + e.what());
  }
  listener_.reset();
  {
    std::lock_guard lock(mutex_);
    if (channel_) recorded_.channelClosed = true;
    channel_.reset();
  }
  changed_.notify_all();
}

// Hello, then requests and queued frames until either side closes or the fake stops.
void FakeAgent::exchange() {
  {
    std::lock_guard lock(mutex_);
    recorded_.hostConnected = true;
    if (options_.sayHello) {
      for (std::size_t i = 0; i <= options_.repeatedHellos; ++i) queueMessage(options_.hello);
    }
  }
  changed_.notify_all();
  for (;;) {
    short events = POLLIN;
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      if (!outbox_.empty()) {
        events |= POLLOUT;
      } else if (closing_) {
        return;
      }
    }
    pollfd fds[] = {{channel_.get(), events, 0}, {wakeFd_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throwErrno("poll");
    }
    if (fds[1].revents & POLLIN) drainWakes();
    if ((fds[0].revents & POLLOUT) && !writeQueued()) return;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && !readFromHost()) return;
  }
}

bool FakeAgent::acceptHost() {
  for (;;) {
    pollfd fds[] = {{listener_.get(), POLLIN, 0}, {wakeFd_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throwErrno("poll");
    }
    {
      std::lock_guard lock(mutex_);
      if (stop_ || closing_) return false;  // the VM went away before a host came
    }
    if (fds[1].revents & POLLIN) drainWakes();
    if (!(fds[0].revents & POLLIN)) continue;
    UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) {
      if (errno == EAGAIN || errno == EINTR) continue;
      throwErrno("accept on " + socketPath_);
    }
    channel_ = std::move(fd);
    listener_.reset();  // one host per VM: a second connection is refused
    return true;
  }
}

// False when the host is gone.
bool FakeAgent::writeQueued() {
  std::lock_guard lock(mutex_);
  while (!outbox_.empty()) {
    ssize_t n = ::send(channel_.get(), outbox_.data(), outbox_.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN;
    }
    outbox_.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

// False at end of file, or when the host sent a frame the fake cannot decode.
bool FakeAgent::readFromHost() {
  char buf[65536];
  ssize_t n = ::recv(channel_.get(), buf, sizeof buf, 0);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  std::lock_guard lock(mutex_);
  try {
    decoder_.feed(buf, static_cast<std::size_t>(n));
  } catch (const Error& e) {
    recorded_.protocolErrors.push_back(e.message());
    return false;
  }
  while (auto frame = decoder_.next()) handleFrame(*frame);
  changed_.notify_all();
  return true;
}

void FakeAgent::handleFrame(const agent::Frame& frame) {
  try {
    if (frame.type == agent::FrameType::Data) {
      if (recorded_.helloAcks == 0) throw Error("data before hello");
      agent::DataChunk chunk = agent::decodeData(frame.payload);
      if (chunk.stream != agent::Stream::Stdin) throw Error("host sent data on stdout or stderr");
      recorded_.stdinBytes[chunk.process] += chunk.bytes;
      return;
    }
    agent::HostMessage message = agent::parseHostMessage(agent::decodeMessage(frame.payload));
    if (const auto* ack = std::get_if<agent::HelloAck>(&message)) {
      ++recorded_.helloAcks;
      if (ack->version != agent::kProtocolVersion)
        throw Error("host speaks protocol " + std::to_string(ack->version));
      return;
    }
    // The real agent stops at a request before the host's hello: it answers nothing.
    if (recorded_.helloAcks == 0) throw Error("request before hello");
    handleRequest(std::get<agent::Request>(message));
  } catch (const Error& e) {
    recorded_.protocolErrors.push_back(e.message());
  }
}

void FakeAgent::handleRequest(const agent::Request& request) {
  recorded_.requests.push_back(request);
  auto scripted = answers_.find(agent::requestName(request.body));
  Answer answer = scripted == answers_.end() ? Answer::success() : scripted->second;
  switch (answer.kind) {
    case Answer::Kind::Success:
      answerSuccess(request);
      break;
    case Answer::Kind::Error:
      queueMessage(agent::Response{request.id, answer.text, std::nullopt, {}});
      break;
    case Answer::Kind::Silence:
      break;
    case Answer::Kind::Close:
      closing_ = true;
      break;
    case Answer::Kind::Raw:
      queue(answer.text);
      break;
  }
}

void FakeAgent::answerSuccess(const agent::Request& request) {
  agent::Response response{request.id, "", std::nullopt, {}};
  std::optional<agent::ProcessId> started;
  ProcessScript script;
  if (std::holds_alternative<agent::StartContainer>(request.body)) {
    started = agent::kInitProcess;
    script = startScript_;
  } else if (const auto* exec = std::get_if<agent::ExecProcess>(&request.body)) {
    started = exec->process;
    script = execScript_;
  } else if (std::holds_alternative<agent::ListProcesses>(request.body)) {
    for (const auto& entry : running_) response.pids.push_back(pidOf(entry.first));
  }
  if (started) {
    response.pid = pidOf(*started);
    running_[*started] = script;
  }
  queueMessage(response);
  if (started) runScript(*started, script);
  if (const auto* signal = std::get_if<agent::SignalProcess>(&request.body)) deliverSignal(*signal);
  if (std::holds_alternative<agent::Shutdown>(request.body)) closing_ = true;  // the VM powers off
}

void FakeAgent::runScript(agent::ProcessId process, const ProcessScript& script) {
  queueOutput(process, agent::Stream::Stdout, script.out);
  queueOutput(process, agent::Stream::Stderr, script.err);
  if (script.exitCode) {
    queueExit({process, *script.exitCode, 0});
  } else if (script.killedBy > 0) {
    queueExit({process, 0, script.killedBy});
  }
}

void FakeAgent::deliverSignal(const agent::SignalProcess& signal) {
  std::vector<agent::ProcessId> killed;
  for (const auto& [process, script] : running_) {
    if ((signal.all || process == signal.process) && script.diesOfSignals)
      killed.push_back(process);
  }
  for (agent::ProcessId process : killed) queueExit({process, 0, signal.signal});
}

void FakeAgent::queueMessage(const agent::GuestMessage& message) {
  queue(agent::encodeMessage(agent::toJson(message)));
}

void FakeAgent::queueOutput(agent::ProcessId process, agent::Stream stream,
                            std::string_view bytes) {
  while (!bytes.empty()) {
    std::size_t n = std::min(bytes.size(), agent::kMaxDataChunk);
    queue(agent::encodeData(process, stream, bytes.substr(0, n)));
    bytes.remove_prefix(n);
  }
}

void FakeAgent::queueExit(const agent::ProcessExited& exited) {
  running_.erase(exited.process);
  queueMessage(exited);
}

void FakeAgent::queue(std::string bytes) {
  outbox_ += bytes;
  wake();
}

void FakeAgent::wake() const {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wakeFd_.get(), &one, sizeof one);
}

void FakeAgent::drainWakes() const {
  std::uint64_t count;
  [[maybe_unused]] ssize_t n = read(wakeFd_.get(), &count, sizeof count);
}

}  // namespace runvirt::test

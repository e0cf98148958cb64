#include "monitor/agent_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>

#include "runvirt/error.hpp"
#include "common/log.hpp"
#include "common/wait_status.hpp"

namespace runvirt::backend {

namespace {

int remainingMs(double deadline) {
  double left = deadline - log::monotonicSeconds();
  return left <= 0 ? 0 : static_cast<int>(left * 1000) + 1;
}

// The monitor ends itself like the container's init: only what a process can end with is
// accepted from the guest (never a stop signal, which would stop the monitor, or code 256).
agent::ProcessExited checkedExit(const agent::ProcessExited& exited) {
  std::string problem = exitStatusProblem(exited.code, exited.signal);
  if (!problem.empty()) {
    std::string process = std::to_string(exited.process);
    throw Error("agent sent an impossible exit of process " + process + ": " + problem,
                ErrorKind::InvalidArgument);
  }
  return exited;
}

}  // namespace

AgentClient AgentClient::connect(const std::string& socketPath) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throwErrno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof addr.sun_path)
    throw Error("agent socket path too long: " + socketPath);
  std::strncpy(addr.sun_path, socketPath.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 &&
      errno != EINPROGRESS) {
    throwErrno("connect to agent socket " + socketPath);
  }
  return AgentClient(std::move(fd));
}

AgentClient AgentClient::adopt(UniqueFd fd) {
  int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0 || fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0)
    throwErrno("make the agent socket non-blocking");
  return AgentClient(std::move(fd));
}

void AgentClient::flush() {
  while (!out_.empty()) {
    ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      // The guest is gone: what it would have read is lost, and readAvailable() reports the end.
      if (errno == EPIPE || errno == ECONNRESET) {
        out_.clear();
        return;
      }
      throwErrno("write to agent");
    }
    out_.erase(0, static_cast<std::size_t>(n));
  }
}

std::string AgentClient::floodMessage() {
  return "the guest agent sent more than " + std::to_string(kMaxQueuedBytes >> 20) +
         " MiB that the host could not pass on yet: a flood, not a workload";
}

void AgentClient::enqueue(AgentEvent event, std::size_t payloadBytes) {
  std::size_t cost = payloadBytes + kEventOverhead;
  if (flooded_ || queuedBytes_ + cost > kMaxQueuedBytes) {
    flooded_ = true;
    throw Error(floodMessage(), ErrorKind::InvalidArgument);
  }
  queuedBytes_ += cost;
  events_.push_back({std::move(event), cost});
}

AgentEvent AgentClient::dequeue(std::deque<Queued>::iterator it) {
  AgentEvent event = std::move(it->event);
  queuedBytes_ -= it->cost;
  events_.erase(it);
  return event;
}

bool AgentClient::readAvailable() {
  // Once flooded, the channel cannot be trusted to carry the rest in order: it stays broken.
  if (flooded_) throw Error(floodMessage(), ErrorKind::InvalidArgument);
  char buf[65536];
  bool open = true;
  std::size_t received = 0;
  while (open && received < kMaxReadPerCall) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (errno != ECONNRESET) throwErrno("read from agent");
      n = 0;
    }
    if (n == 0) {
      open = false;
    } else {
      decoder_.feed(buf, static_cast<std::size_t>(n));
      received += static_cast<std::size_t>(n);
    }
  }
  // At end of file too: what the guest sent before it went away (a last exit) still counts.
  decodeFrames();
  return open;
}

void AgentClient::decodeFrames() {
  while (auto frame = decoder_.next()) {
    if (frame->type == agent::FrameType::Data) {
      auto chunk = agent::decodeData(frame->payload);
      if (chunk.stream == agent::Stream::Stdin)
        throw Error("agent sent data on stdin", ErrorKind::InvalidArgument);
      enqueue(OutputChunk{chunk.process, chunk.stream, std::string(chunk.bytes)},
              chunk.bytes.size());
      continue;
    }
    auto message = agent::parseGuestMessage(agent::decodeMessage(frame->payload));
    if (auto* hello = std::get_if<agent::Hello>(&message)) {
      if (helloReceived_)
        throw Error("the guest agent said hello twice", ErrorKind::InvalidArgument);
      helloReceived_ = true;
      hello_ = *hello;
    } else if (auto* response = std::get_if<agent::Response>(&message)) {
      enqueue(*response, frame->payload.size());
    } else {
      enqueue(checkedExit(std::get<agent::ProcessExited>(message)), frame->payload.size());
    }
  }
}

bool AgentClient::waitForFrames(double deadline) {
  for (;;) {
    flush();
    pollfd p{fd_.get(), static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
    int ms = remainingMs(deadline);
    if (ms == 0) return false;
    int rc = poll(&p, 1, ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      throwErrno("poll agent socket");
    }
    if (rc == 0) return false;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      std::size_t before = events_.size();
      bool helloBefore = helloReceived_;
      bool open = readAvailable();
      // Frames that came with the end of the channel go to the caller first; the next wait throws.
      if (events_.size() != before || helloReceived_ != helloBefore) return true;
      if (!open) throw Error("the VM closed the agent channel");
    }
  }
}

agent::Hello AgentClient::handshake(double timeoutSeconds) {
  double deadline = log::monotonicSeconds() + timeoutSeconds;
  while (!hello_) {
    if (!waitForFrames(deadline)) {
      throw Error(
          "the guest agent did not answer within " + std::to_string(int(timeoutSeconds)) + " s",
          ErrorKind::Timeout);
    }
  }
  agent::Hello hello = *hello_;
  hello_.reset();
  if (hello.version != agent::kProtocolVersion) {
    throw Error("guest agent speaks protocol " + std::to_string(hello.version) +
                ", runvirt needs " + std::to_string(agent::kProtocolVersion) +
                ": rebuild the guest image");
  }
  utsname host{};
  uname(&host);
  if (hello.arch != host.machine) {
    throw Error("guest architecture " + quote(hello.arch) + " differs from the host's " +
                quote(host.machine));
  }
  queueFrame(agent::encodeMessage(agent::toJson(agent::HostMessage{agent::HelloAck{}})));
  flush();
  return hello;
}

std::uint64_t AgentClient::send(agent::RequestBody body) {
  agent::Request request{nextId_++, std::move(body)};
  queueFrame(agent::encodeMessage(agent::toJson(agent::HostMessage{request})));
  flush();
  return request.id;
}

void AgentClient::sendStdin(agent::ProcessId process, std::string_view bytes) {
  while (!bytes.empty()) {
    std::size_t n = std::min(bytes.size(), agent::kMaxDataChunk);
    queueFrame(agent::encodeData(process, agent::Stream::Stdin, bytes.substr(0, n)));
    bytes.remove_prefix(n);
  }
  flush();
}

agent::Response AgentClient::call(agent::RequestBody body, double timeoutSeconds) {
  std::string name = agent::requestName(body);
  std::uint64_t id = send(std::move(body));
  double deadline = log::monotonicSeconds() + timeoutSeconds;
  for (;;) {
    for (auto it = events_.begin(); it != events_.end(); ++it) {
      auto* response = std::get_if<agent::Response>(&it->event);
      if (!response || response->id != id) continue;
      agent::Response found = std::get<agent::Response>(dequeue(it));
      if (!found.error.empty()) throw Error(found.error);
      return found;
    }
    if (!waitForFrames(deadline)) throw Error("agent: no answer to " + name, ErrorKind::Timeout);
  }
}

std::optional<AgentEvent> AgentClient::nextEvent() {
  if (events_.empty()) return std::nullopt;
  return dequeue(events_.begin());
}

}  // namespace runvirt::backend

// The host end of the agent channel (the VM's virtio-serial port, a unix socket libvirt made).
// Only the monitor talks to it: the socket accepts one client at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>

#include "runvirt/agent/framing.hpp"
#include "runvirt/agent/protocol.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

struct OutputChunk {
  agent::ProcessId process = 0;
  agent::Stream stream = agent::Stream::Stdout;
  std::string bytes;
};

// What the guest sent that nobody asked for synchronously.
using AgentEvent = std::variant<agent::Response, agent::ProcessExited, OutputChunk>;

class AgentClient {
 public:
  // Connects to the channel socket; the guest need not have booted yet (QEMU keeps the bytes).
  static AgentClient connect(const std::string& socketPath);
  // Takes an already connected stream socket (unit tests: one end of a socketpair) and makes it
  // non-blocking, as connect() does.
  static AgentClient adopt(UniqueFd fd);

  // Waits for the guest's hello, checks protocol version and architecture, answers it.
  agent::Hello handshake(double timeoutSeconds);

  // Sends a request and waits for its response; other frames are kept as events.
  // A response carrying an error becomes an Error thrown with that message.
  agent::Response call(agent::RequestBody body, double timeoutSeconds);

  // ---- non-blocking use from the monitor's poll loop ----
  int fd() const { return fd_.get(); }
  std::uint64_t send(agent::RequestBody body);
  void sendStdin(agent::ProcessId process, std::string_view bytes);
  std::size_t pendingOutput() const { return out_.size(); }
  // Writes what the socket takes now. Once the guest has gone, drops it: readAvailable() and
  // call() report the end of the channel, not every writer.
  void flush();
  // Reads what is available, up to kMaxReadPerCall bytes, and decodes it into events. Returns
  // false at end of file (the VM is gone). Throws Error when the guest breaks the protocol.
  bool readAvailable();
  // A guest that sends without pause must not keep the caller in readAvailable(): the monitor's
  // loop stops reading when its output buffers are full, and the socket stays readable for the
  // rest.
  static constexpr std::size_t kMaxReadPerCall = 1u << 20;
  std::optional<AgentEvent> nextEvent();

  // What the guest sent and nobody took yet is bounded: a guest that sends faster than the host
  // passes it on (output while a call waits, responses to ids nobody asked for) breaks the
  // channel with an Error once this much is queued, rather than grow the monitor's memory. Each
  // event counts its payload and this overhead (a flood of empty chunks costs memory too).
  static constexpr std::size_t kMaxQueuedBytes = 64u << 20;
  static constexpr std::size_t kEventOverhead = 256;
  std::size_t queuedBytes() const { return queuedBytes_; }
  bool flooded() const { return flooded_; }

 private:
  explicit AgentClient(UniqueFd fd) : fd_(std::move(fd)) {}
  void queueFrame(std::string frame) { out_ += frame; }
  // Blocks (with a deadline) until a frame is decoded; false on timeout.
  bool waitForFrames(double deadline);
  void decodeFrames();
  struct Queued {
    AgentEvent event;
    std::size_t cost;  // counted against kMaxQueuedBytes
  };
  void enqueue(AgentEvent event, std::size_t payloadBytes);
  AgentEvent dequeue(std::deque<Queued>::iterator it);
  static std::string floodMessage();

  UniqueFd fd_;
  std::string out_;
  agent::FrameDecoder decoder_;
  std::deque<Queued> events_;
  std::size_t queuedBytes_ = 0;
  bool flooded_ = false;
  // The guest says hello once per boot. A second hello is a protocol error, not a queue that a
  // hostile guest could grow.
  bool helloReceived_ = false;
  std::optional<agent::Hello> hello_;  // received, not yet taken by handshake()
  std::uint64_t nextId_ = 1;
};

}  // namespace runvirt::backend

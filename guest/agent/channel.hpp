// The agent's end of the host channel: the virtio-serial port. Frames out are written with
// blocking writes (the host always reads; while no host is connected the port blocks);
// frames in are read only when poll says so and decoded incrementally.
#pragma once

#include <optional>
#include <string_view>

#include "runvirt/agent/framing.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

class Channel {
 public:
  explicit Channel(UniqueFd port) : port_(std::move(port)) {}

  int fd() const { return port_.get(); }
  // Logs and drops the frame when the port fails.
  void send(std::string_view frame);
  // One read from the port. False when no host is connected (the port reads end of file);
  // partial input is then discarded.
  bool readAvailable();
  std::optional<Frame> nextFrame() { return decoder_.next(); }

 private:
  UniqueFd port_;
  FrameDecoder decoder_;
};

}  // namespace runvirt::agent

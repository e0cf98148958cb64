// Frames on the host <-> guest channel: [u32 big-endian payload length][u8 type][payload].
// Lengths are bounded on both ends so neither side can make the other allocate without limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::agent {

inline constexpr std::size_t kFrameHeaderBytes = 5;
inline constexpr std::size_t kMaxFramePayload = 1u << 20;  // 1 MiB: a message or a data chunk
inline constexpr std::size_t kMaxDataChunk = 64u << 10;    // stdio is sent in chunks of this size

enum class FrameType : std::uint8_t { Message = 1, Data = 2 };
enum class Stream : std::uint8_t { Stdin = 0, Stdout = 1, Stderr = 2 };

struct Frame {
  FrameType type = FrameType::Message;
  std::string payload;
};

struct DataChunk {
  ProcessId process = 0;
  Stream stream = Stream::Stdout;
  std::string_view bytes;  // points into the frame payload
};

std::string encodeFrame(FrameType type, std::string_view payload);
std::string encodeMessage(const nlohmann::json& message);
std::string encodeData(ProcessId process, Stream stream, std::string_view bytes);
// Throws Error when the payload is too short or names an unknown stream.
DataChunk decodeData(std::string_view payload);
// Throws Error when the payload is not valid JSON.
nlohmann::json decodeMessage(std::string_view payload);

// Incremental decoder: feed bytes as they arrive, take whole frames out.
class FrameDecoder {
 public:
  // Throws Error on an oversized frame or an unknown frame type; the stream is then unusable.
  void feed(const char* data, std::size_t size);
  std::optional<Frame> next();
  bool empty() const { return frames_.empty(); }

 private:
  std::string buffer_;
  std::deque<Frame> frames_;
};

}  // namespace runvirt::agent

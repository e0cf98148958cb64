#include "runvirt/agent/framing.hpp"

#include "runvirt/error.hpp"

namespace runvirt::agent {

namespace {

void putU32(std::string& out, std::uint32_t value) {
  out += char(value >> 24);
  out += char((value >> 16) & 0xff);
  out += char((value >> 8) & 0xff);
  out += char(value & 0xff);
}

std::uint32_t getU32(const char* p) {
  return (std::uint32_t(std::uint8_t(p[0])) << 24) | (std::uint32_t(std::uint8_t(p[1])) << 16) |
         (std::uint32_t(std::uint8_t(p[2])) << 8) | std::uint32_t(std::uint8_t(p[3]));
}

}  // namespace

std::string encodeFrame(FrameType type, std::string_view payload) {
  if (payload.size() > kMaxFramePayload) {
    throw Error("frame of " + std::to_string(payload.size()) + " bytes exceeds the limit");
  }
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  putU32(out, static_cast<std::uint32_t>(payload.size()));
  out += char(type);
  out.append(payload);
  return out;
}

std::string encodeMessage(const nlohmann::json& message) {
  return encodeFrame(FrameType::Message, message.dump());
}

std::string encodeData(ProcessId process, Stream stream, std::string_view bytes) {
  std::string payload;
  payload.reserve(5 + bytes.size());
  putU32(payload, process);
  payload += char(stream);
  payload.append(bytes);
  return encodeFrame(FrameType::Data, payload);
}

DataChunk decodeData(std::string_view payload) {
  if (payload.size() < 5) throw Error("data frame too short", ErrorKind::InvalidArgument);
  auto stream = std::uint8_t(payload[4]);
  if (stream > std::uint8_t(Stream::Stderr)) {
    throw Error("data frame names unknown stream " + std::to_string(stream),
                ErrorKind::InvalidArgument);
  }
  return {getU32(payload.data()), Stream(stream), payload.substr(5)};
}

nlohmann::json decodeMessage(std::string_view payload) {
  auto json = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw Error("message is not valid JSON", ErrorKind::InvalidArgument);
  return json;
}

void FrameDecoder::feed(const char* data, std::size_t size) {
  buffer_.append(data, size);
  std::size_t offset = 0;
  while (buffer_.size() - offset >= kFrameHeaderBytes) {
    std::uint32_t length = getU32(buffer_.data() + offset);
    auto type = std::uint8_t(buffer_[offset + 4]);
    if (length > kMaxFramePayload) {
      throw Error("peer sent a frame of " + std::to_string(length) + " bytes (limit " +
                      std::to_string(kMaxFramePayload) + ")",
                  ErrorKind::InvalidArgument);
    }
    if (type != std::uint8_t(FrameType::Message) && type != std::uint8_t(FrameType::Data)) {
      throw Error("peer sent unknown frame type " + std::to_string(type),
                  ErrorKind::InvalidArgument);
    }
    if (buffer_.size() - offset - kFrameHeaderBytes < length) break;
    frames_.push_back({FrameType(type), buffer_.substr(offset + kFrameHeaderBytes, length)});
    offset += kFrameHeaderBytes + length;
  }
  buffer_.erase(0, offset);
}

std::optional<Frame> FrameDecoder::next() {
  if (frames_.empty()) return std::nullopt;
  Frame frame = std::move(frames_.front());
  frames_.pop_front();
  return frame;
}

}  // namespace runvirt::agent

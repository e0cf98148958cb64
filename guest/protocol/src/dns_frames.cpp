#include "runvirt/agent/dns_frames.hpp"

#include <algorithm>

#include "runvirt/error.hpp"

namespace runvirt::agent::dns {

namespace {

constexpr std::uint16_t kTypeOpt = 41;

std::uint16_t getU16(std::string_view bytes, std::size_t at) {
  return static_cast<std::uint16_t>((std::uint8_t(bytes[at]) << 8) | std::uint8_t(bytes[at + 1]));
}

void putU16(std::string& bytes, std::size_t at, std::uint16_t value) {
  bytes[at] = char(value >> 8);
  bytes[at + 1] = char(value & 0xff);
}

// Offset just past a (possibly compressed) domain name starting at `at`.
std::optional<std::size_t> skipName(std::string_view m, std::size_t at) {
  for (int labels = 0; labels < 128; ++labels) {
    if (at >= m.size()) return std::nullopt;
    auto length = std::uint8_t(m[at]);
    if (length == 0) return at + 1;
    if ((length & 0xc0) == 0xc0) return at + 2 <= m.size() ? std::optional(at + 2) : std::nullopt;
    if (length & 0xc0) return std::nullopt;  // reserved label types
    at += 1 + length;
  }
  return std::nullopt;
}

// Offset just past the question section (QDCOUNT entries of name, type, class).
std::optional<std::size_t> questionEnd(std::string_view m) {
  if (!hasHeader(m)) return std::nullopt;
  std::size_t at = kHeaderBytes;
  for (unsigned i = 0, count = getU16(m, 4); i < count; ++i) {
    auto end = skipName(m, at);
    if (!end || *end + 4 > m.size()) return std::nullopt;
    at = *end + 4;
  }
  return at;
}

}  // namespace

std::string encodeFrame(std::string_view message) {
  if (message.empty() || message.size() > kMaxMessage) {
    throw Error("DNS message of " + std::to_string(message.size()) + " bytes cannot be framed");
  }
  std::string frame(2, '\0');
  putU16(frame, 0, static_cast<std::uint16_t>(message.size()));
  frame.append(message);
  return frame;
}

std::optional<std::string> FrameDecoder::next() {
  while (buffer_.size() >= 2) {
    std::size_t length = getU16(buffer_, 0);
    if (buffer_.size() < 2 + length) return std::nullopt;
    std::string message = buffer_.substr(2, length);
    buffer_.erase(0, 2 + length);
    if (!message.empty()) return message;
  }
  return std::nullopt;
}

std::uint16_t messageId(std::string_view message) { return getU16(message, 0); }

void setMessageId(std::string& message, std::uint16_t id) { putU16(message, 0, id); }

bool isResponse(std::string_view message) { return std::uint8_t(message[2]) & 0x80; }

bool isTruncated(std::string_view message) { return std::uint8_t(message[2]) & 0x02; }

std::size_t udpReplyLimit(std::string_view query) {
  auto at = questionEnd(query);
  // A query carries its OPT record in the additional section, right after the question.
  if (!at || getU16(query, 6) != 0 || getU16(query, 8) != 0 || getU16(query, 10) == 0)
    return kClassicUdpLimit;
  if (*at + 5 > query.size() || query[*at] != 0 || getU16(query, *at + 1) != kTypeOpt)
    return kClassicUdpLimit;
  return std::max<std::size_t>(kClassicUdpLimit, getU16(query, *at + 3));
}

std::string truncatedReply(std::string_view reply, std::string_view query) {
  std::string out(reply.substr(0, kHeaderBytes));
  out.resize(kHeaderBytes, '\0');
  out[2] = char(std::uint8_t(out[2]) | 0x02);
  auto end = questionEnd(query);
  putU16(out, 4, end ? getU16(query, 4) : 0);
  for (std::size_t at : {6, 8, 10}) putU16(out, at, 0);
  if (end) out.append(query.substr(kHeaderBytes, *end - kHeaderBytes));
  return out;
}

}  // namespace runvirt::agent::dns

// DNS messages on the DNS port (kDnsChannelName in protocol.hpp): [u16 big-endian length]
// [DNS message], the framing of DNS over TCP. Shared by the host relay and the agent; pure.
// Only the 12-byte header and the question are ever looked at: answers pass through untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace runvirt::agent::dns {

inline constexpr std::size_t kHeaderBytes = 12;
inline constexpr std::size_t kMaxMessage = 65535;
// What a UDP client without EDNS accepts (RFC 1035 4.2.1).
inline constexpr std::size_t kClassicUdpLimit = 512;

// [u16 length][message]. Throws Error for an empty or oversized message.
std::string encodeFrame(std::string_view message);

// Incremental decoder for a stream of frames; empty frames are skipped.
class FrameDecoder {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  std::optional<std::string> next();
  void reset() { buffer_.clear(); }
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

// A message shorter than a header is not DNS; the accessors below need one.
inline bool hasHeader(std::string_view message) { return message.size() >= kHeaderBytes; }
std::uint16_t messageId(std::string_view message);
void setMessageId(std::string& message, std::uint16_t id);
bool isResponse(std::string_view message);   // QR bit
bool isTruncated(std::string_view message);  // TC bit

// The largest reply a UDP client takes for `query`: the payload size of its EDNS OPT record
// (RFC 6891), else 512.
std::size_t udpReplyLimit(std::string_view query);
// The header of `reply` with TC set and the question of `query`: what a UDP server sends when
// the answer does not fit, so the client asks again over TCP.
std::string truncatedReply(std::string_view reply, std::string_view query);

}  // namespace runvirt::agent::dns

// libFuzzer target: DNS over the DNS port (guest/protocol/dns_frames), which the host relay reads
// from the guest and the agent reads from the container: frames, then the header, question and
// EDNS fields the relays look at.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runvirt/agent/dns_frames.hpp"
#include "runvirt/error.hpp"

using namespace runvirt::agent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dns::FrameDecoder decoder;
  decoder.feed(std::string_view(reinterpret_cast<const char*>(data), size));
  std::string previous;
  while (auto message = decoder.next()) {
    if (!dns::hasHeader(*message)) continue;  // the relays drop these
    (void)dns::isResponse(*message);
    (void)dns::isTruncated(*message);
    (void)dns::udpReplyLimit(*message);
    // An answer that does not fit: its header with the question of the query it answers.
    (void)dns::truncatedReply(previous.empty() ? *message : previous, *message);
    dns::setMessageId(*message, static_cast<std::uint16_t>(dns::messageId(*message) + 1));
    try {
      (void)dns::encodeFrame(*message);
    } catch (const runvirt::Error&) {
    }
    previous = *message;
  }
  return 0;
}

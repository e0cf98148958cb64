// libFuzzer target: bytes the (untrusted) guest sends the host on the agent channel, decoded as
// monitor/agent_client does: frames, data chunks and guest messages.
#include <cstddef>
#include <cstdint>

#include "runvirt/agent/framing.hpp"
#include "runvirt/agent/protocol.hpp"
#include "runvirt/error.hpp"

using namespace runvirt::agent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte splits the rest in two reads, so frames also arrive cut in the middle.
  std::size_t split = data[0] % size;
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  std::size_t length = size - 1;
  if (split > length) split = length;
  FrameDecoder decoder;
  try {
    decoder.feed(bytes, split);
    decoder.feed(bytes + split, length - split);
  } catch (const runvirt::Error&) {
    // An oversized frame or an unknown type: the host drops the guest; frames before it count.
  }
  while (auto frame = decoder.next()) {
    try {
      if (frame->type == FrameType::Data) {
        (void)decodeData(frame->payload);
        continue;
      }
      GuestMessage message = parseGuestMessage(decodeMessage(frame->payload));
      // What the host accepted must encode and parse again (logs, the fake agent, golden tests).
      (void)parseGuestMessage(nlohmann::json::parse(toJson(message).dump()));
    } catch (const runvirt::Error&) {
      // A refused frame.
    }
  }
  return 0;
}

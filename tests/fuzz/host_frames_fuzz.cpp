// libFuzzer target: bytes the host sends the guest agent on its channel, decoded as
// guest/agent's channel and server do: frames, stdin chunks and host messages.
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
    // An oversized frame or an unknown type: the agent drops what it buffered.
  }
  while (auto frame = decoder.next()) {
    try {
      if (frame->type == FrameType::Data) {
        (void)decodeData(frame->payload);
        continue;
      }
      HostMessage message = parseHostMessage(decodeMessage(frame->payload));
      if (auto* request = std::get_if<Request>(&message)) (void)requestName(request->body);
      // What the agent accepted must encode and parse again (the host encodes these).
      (void)parseHostMessage(nlohmann::json::parse(toJson(message).dump()));
    } catch (const runvirt::Error&) {
      // A refused frame: the agent answers an error or drops it.
    }
  }
  return 0;
}

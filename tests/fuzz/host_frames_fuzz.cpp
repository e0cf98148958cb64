// libFuzzer target: bytes the host sends the guest agent on its channel, decoded as
// guest/agent's channel and server do: frames, stdin chunks and host messages.
#include "frames_fuzz.hpp"

using namespace runvirt::agent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzFrames(data, size, [](const nlohmann::json& json) {
    HostMessage message = parseHostMessage(json);
    if (auto* request = std::get_if<Request>(&message)) (void)requestName(request->body);
    // What the agent accepted must encode and parse again (the host encodes these).
    (void)parseHostMessage(nlohmann::json::parse(toJson(message).dump()));
  });
  return 0;
}

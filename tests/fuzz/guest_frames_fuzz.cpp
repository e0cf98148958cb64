// libFuzzer target: bytes the (untrusted) guest sends the host on the agent channel, decoded as
// monitor/agent_client does: frames, data chunks and guest messages.
#include "frames_fuzz.hpp"

using namespace runvirt::agent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzFrames(data, size, [](const nlohmann::json& json) {
    GuestMessage message = parseGuestMessage(json);
    // What the host accepted must encode and parse again (logs, the fake agent, golden tests).
    (void)parseGuestMessage(nlohmann::json::parse(toJson(message).dump()));
  });
  return 0;
}

// libFuzzer target: packets on the control socket between runvirt's host processes, parsed as
// control/channel does: JSON, then a request (the monitor's side) or a reply (the CLI's side).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/messages.hpp"
#include "runvirt/error.hpp"

using namespace runvirt::backend::control;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto json = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;  // "control message is not JSON"
  try {
    Request request = parseRequest(json);
    (void)typeName(request);
    (void)parseRequest(nlohmann::json::parse(toJson(request).dump()));
  } catch (const runvirt::Error&) {
  }
  try {
    Reply reply = parseReply(json);
    (void)typeName(reply);
    (void)parseReply(nlohmann::json::parse(toJson(reply).dump()));
  } catch (const runvirt::Error&) {
  }
  return 0;
}

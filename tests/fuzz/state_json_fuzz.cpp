// libFuzzer target: <root>/<id>/state.json, read back as StateStore::load does once it has read
// the file: JSON, then the strict record parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runvirt/error.hpp"
#include "state/state_store.hpp"

using namespace runvirt::backend;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;  // "state.json is not valid JSON"
  try {
    ContainerRecord record = parseRecord(json);
    // A record is saved with toJson: what was accepted must read back.
    (void)parseRecord(nlohmann::json::parse(toJson(record).dump()));
  } catch (const runvirt::Error&) {
  }
  return 0;
}

// libFuzzer target: a bundle's config.json (written by whoever made the bundle) through the oci/
// spec parser and its validation, as oci::loadSpec does once it has read the file.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runvirt/error.hpp"
#include "runvirt/json_fields.hpp"
#include "runvirt/oci/spec_json.hpp"
#include "runvirt/oci/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;  // loadSpec refuses it with the parser's message
  try {
    std::vector<runvirt::Problem> problems;
    runvirt::oci::Spec spec = runvirt::oci::parseSpec(json, problems);
    auto semantic = runvirt::oci::validate(spec);
    problems.insert(problems.end(), semantic.begin(), semantic.end());
    runvirt::throwIfProblems(problems, "invalid config.json");
    // An accepted spec is written back (`runvirt spec`, the monitor's copy): that must not throw.
    (void)runvirt::oci::toJson(spec).dump();
  } catch (const runvirt::Error&) {
    // A refused config.json: the normal outcome for most inputs.
  }
  return 0;
}

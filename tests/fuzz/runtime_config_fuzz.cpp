// libFuzzer target: runvirt's config.toml (--config, $RUNVIRT_CONFIG, /etc/runvirt/config.toml)
// through common/runtime_config's parser, as loadRuntimeConfig does once it has read the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/runtime_config.hpp"
#include "runvirt/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)runvirt::backend::parseRuntimeConfig(text, "config.toml");
  } catch (const runvirt::Error&) {
    // A refused file: the error names the file, line and key.
  }
  return 0;
}

// config.json <-> oci::Spec. Lenient on input: unknown fields are ignored; wrong types are
// collected with their JSON path so one error can name every mistake.
#pragma once

#include <string>
#include <vector>

#include "runvirt/json_fields.hpp"
#include "runvirt/oci/spec.hpp"

namespace runvirt::oci {

// Type problems are appended to `problems`; fields with problems keep their defaults.
Spec parseSpec(const nlohmann::json& json, std::vector<Problem>& problems);
nlohmann::json toJson(const Spec& spec);
nlohmann::json toJson(const Process& process);
Process parseProcess(const nlohmann::json& json, const std::string& path,
                     std::vector<Problem>& problems);

// Reads <bundle>/config.json, parses and validates it; throws Error naming every problem.
Spec loadSpec(const std::string& bundleDir);

// The default config.json of `runvirt spec` (what `runc spec` writes, busybox-friendly).
Spec defaultSpec();

}  // namespace runvirt::oci

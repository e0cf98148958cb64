// Semantic checks of a parsed config.json: everything runvirt would refuse, with JSON paths.
#pragma once

#include <vector>

#include "runvirt/json_fields.hpp"
#include "runvirt/oci/spec.hpp"

namespace runvirt::oci {

std::vector<Problem> validate(const Spec& spec);
// Checks of a process alone (also used for `exec --process`).
void validateProcess(const Process& process, const std::string& path,
                     std::vector<Problem>& problems);

}  // namespace runvirt::oci

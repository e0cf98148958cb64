// Container IDs end up in paths and log lines: check them before any use.
#pragma once

#include <string>

namespace runvirt::oci {

// Throws Error("invalid container ID format") like runc: letters, digits, '_', '+', '-', '.',
// not "." or "..", at most 1024 characters.
void validateContainerId(const std::string& id);

}  // namespace runvirt::oci

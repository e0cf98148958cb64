#include "runvirt/oci/container_id.hpp"

#include <cctype>

#include "runvirt/error.hpp"

namespace runvirt::oci {

void validateContainerId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 1024 && id != "." && id != "..";
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '+' && c != '-' &&
        c != '.') {
      ok = false;
    }
  }
  if (!ok) throw Error("invalid container ID format", ErrorKind::InvalidArgument);
}

}  // namespace runvirt::oci

#include "common/strings.hpp"

namespace runvirt::backend {

std::vector<std::string> split(std::string_view text, char separator, EmptyFields empty) {
  std::vector<std::string> fields;
  if (text.empty()) return fields;
  for (std::size_t start = 0;;) {
    std::size_t end = text.find(separator, start);
    std::string_view field = text.substr(start, end == std::string_view::npos ? end : end - start);
    if (empty == EmptyFields::Keep || !field.empty()) fields.emplace_back(field);
    if (end == std::string_view::npos) return fields;
    start = end + 1;
  }
}

}  // namespace runvirt::backend

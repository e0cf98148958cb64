#include "common/durations.hpp"

#include <cstdio>

namespace runvirt::backend {

std::string formatSeconds(double seconds, int decimals) {
  int length = std::snprintf(nullptr, 0, "%.*f s", decimals, seconds);
  std::string text(static_cast<std::size_t>(length), '\0');
  std::snprintf(text.data(), text.size() + 1, "%.*f s", decimals, seconds);
  return text;
}

}  // namespace runvirt::backend

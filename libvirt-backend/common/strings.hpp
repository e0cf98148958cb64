// Splitting text into fields, each caller saying what becomes of the empty ones.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace runvirt::backend {

// What split() does with an empty field (between two separators, or at either end).
enum class EmptyFields { Keep, Drop };

// The fields of `text` between `separator`s; an empty text has none. Keep: one field more than
// there are separators ("a,,b," -> "a" "" "b" ""), where a field's position counts
// ("slice:prefix:name"); Drop: only the non-empty ones ("a,,b," -> "a" "b"), for lists of words.
std::vector<std::string> split(std::string_view text, char separator, EmptyFields empty);

}  // namespace runvirt::backend

// How runvirt prints a duration, in messages and in the debug log's phase lines (which
// bench/rvbench/phases.py parses as "<number> s").
#pragma once

#include <string>

namespace runvirt::backend {

// "0.374 s": `seconds` rounded to `decimals` digits after the point, then " s".
std::string formatSeconds(double seconds, int decimals = 3);

}  // namespace runvirt::backend

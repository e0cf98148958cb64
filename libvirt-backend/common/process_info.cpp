#include "common/process_info.hpp"

#include <sstream>
#include <string>

#include "runvirt/file_io.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

namespace {

struct StatFields {
  char state = '?';
  std::uint64_t startTime = 0;
};

std::optional<StatFields> readStat(pid_t pid) {
  std::string stat;
  try {
    stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  } catch (const Error&) {
    return std::nullopt;
  }
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  StatFields fields;
  rest >> fields.state;
  std::string skip;
  for (int field = 4; field < 22; ++field) rest >> skip;  // fields 4..21
  rest >> fields.startTime;
  if (!rest) return std::nullopt;
  return fields;
}

}  // namespace

std::optional<std::uint64_t> processStartTime(pid_t pid) {
  auto fields = readStat(pid);
  if (!fields) return std::nullopt;
  return fields->startTime;
}

bool isSameProcessAlive(pid_t pid, std::uint64_t startTime) {
  if (pid <= 0) return false;
  auto fields = readStat(pid);
  return fields && fields->state != 'Z' && fields->state != 'X' && fields->startTime == startTime;
}

const std::string& currentBootId() {
  static const std::string bootId = [] {
    std::string id = readFile("/proc/sys/kernel/random/boot_id");
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    return id;
  }();
  return bootId;
}

}  // namespace runvirt::backend

#include "runvirt/oci/linux_names.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

namespace runvirt::oci {

namespace {

// Index = capability number (linux/capability.h), up to CAP_CHECKPOINT_RESTORE (40).
const std::vector<std::string> kCapabilities = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

const std::vector<std::pair<std::string_view, int>> kRlimits = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

const std::vector<std::pair<std::string_view, int>> kSignals = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGABRT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGIO},       {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

std::optional<int> parseInt(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<int> capabilityNumber(std::string_view name) {
  auto it = std::find(kCapabilities.begin(), kCapabilities.end(), name);
  if (it == kCapabilities.end()) return std::nullopt;
  return static_cast<int>(it - kCapabilities.begin());
}

const std::vector<std::string>& capabilityNames() { return kCapabilities; }

std::optional<int> rlimitNumber(std::string_view name) {
  for (const auto& [n, number] : kRlimits) {
    if (n == name) return number;
  }
  return std::nullopt;
}

std::optional<int> parseSignal(std::string_view original) {
  std::string upper(original);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view text = upper;
  if (auto number = parseInt(text)) {
    if (*number > 0 && *number <= SIGRTMAX) return number;
    return std::nullopt;
  }
  if (text.substr(0, 3) == "SIG") text.remove_prefix(3);
  for (const auto& [name, number] : kSignals) {
    if (name == text) return number;
  }
  // RTMIN, RTMIN+n, RTMAX-n
  if (text.substr(0, 5) == "RTMIN" || text.substr(0, 5) == "RTMAX") {
    bool min = text[4] == 'N';
    int base = min ? SIGRTMIN : SIGRTMAX;
    std::string_view rest = text.substr(5);
    if (rest.empty()) return base;
    if ((min && rest[0] != '+') || (!min && rest[0] != '-')) return std::nullopt;
    auto offset = parseInt(rest.substr(1));
    if (!offset || *offset < 0) return std::nullopt;
    int signal = min ? base + *offset : base - *offset;
    if (signal < SIGRTMIN || signal > SIGRTMAX) return std::nullopt;
    return signal;
  }
  return std::nullopt;
}

std::string signalName(int signal) {
  for (const auto& [name, number] : kSignals) {
    if (number == signal) return "SIG" + std::string(name);
  }
  return "SIG" + std::to_string(signal);
}

}  // namespace runvirt::oci

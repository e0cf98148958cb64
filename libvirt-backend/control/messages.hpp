// The control protocol between runvirt's own host processes: the CLI, the container's monitor
// and exec monitors. One schema for both ends, like the agent protocol (guest/protocol/).
//
// Wire format (channel.hpp): one JSON object per SOCK_SEQPACKET message, at most
// kMaxMessageBytes, with "version" and "type"; parsed strictly (unknown fields, wrong types and
// another version are errors). File descriptors travel with a message as SCM_RIGHTS.
//
// Conversations:
//   create        <- monitor       set-up report on a socketpair: done | failed
//   exec          <- exec monitor  set-up report on a socketpair: done | failed
//   CLI           -> monitor       start -> started | failed;  kill -> done | failed;
//                                  list_host_pids -> host_pids | failed   (control.sock)
//   exec monitor  -> monitor       exec + stdio fds -> exec_started | failed, then on the same
//                                  connection: signal, resize (no reply) ... <- exited
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::backend::control {

inline constexpr int kVersion = 1;
inline constexpr std::size_t kMaxMessageBytes = 1u << 20;
// stdin, stdout and stderr of an exec'd process (or its one pty).
inline constexpr std::size_t kMaxFds = 3;

// ---- requests, to a container's monitor ----
struct Start {};
struct Kill {
  int signal = 0;
  bool all = false;  // every process of the container
};
// The host pids standing for the container's processes (`runvirt ps`, `docker top`).
struct ListHostPids {};
// Opens an exec session: carries the process's stdio (3 fds, or the pty alone with a terminal);
// the connection stays open until the process exits.
struct Exec {
  agent::ProcessSpec process;
};
// Within an exec session, from the exec monitor: a signal it received, a resize of its pty.
struct Signal {
  int signal = 0;
};
struct Resize {
  std::uint16_t rows = 0;
  std::uint16_t cols = 0;
};

using Request = std::variant<Start, Kill, ListHostPids, Exec, Signal, Resize>;

// ---- replies and reports ----
struct Done {};
struct Failed {
  std::string error;
};
struct Started {
  int pid = 0;  // the init process's pid in the guest
};
struct HostPids {
  std::vector<int> pids;
};
struct ExecStarted {
  int pid = 0;  // in the guest
  agent::ProcessId process = 0;
};
struct Exited {
  int code = 0;
  int signal = 0;  // > 0: killed by this signal
};

using Reply = std::variant<Done, Failed, Started, HostPids, ExecStarted, Exited>;

// Encoding is total; parsing throws Error(InvalidArgument) naming the bad field.
nlohmann::json toJson(const Request& request);
nlohmann::json toJson(const Reply& reply);
Request parseRequest(const nlohmann::json& json);
Reply parseReply(const nlohmann::json& json);

// "start", "kill", ... for logs and errors.
std::string typeName(const Request& request);
std::string typeName(const Reply& reply);

}  // namespace runvirt::backend::control

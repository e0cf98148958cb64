// Every process the host knows by ProcessId: its guest pid, the agent's ends of its stdio,
// pending stdin, and its exit status. Owns the rule for exit events: ProcessExited is sent
// after the process's stdout/stderr reached end of file (so every Data frame precedes it),
// but no later than kExitDrainLimit after the exit (background children can hold the pipes).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "poll_set.hpp"
#include "runvirt/agent/framing.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

using Clock = std::chrono::steady_clock;
inline constexpr auto kExitDrainLimit = std::chrono::seconds(2);
inline constexpr std::size_t kMaxPendingInput = 8u << 20;  // stdin the process has not read yet

struct ProcessRecord {
  ProcessId id = 0;
  std::string container;
  pid_t pid = 0;  // 0 until known
  bool terminal = false;
  UniqueFd input;   // stdin pipe (write end); with a terminal, input goes to `output`
  UniqueFd output;  // stdout pipe (read end), or the pty master
  UniqueFd errors;  // stderr pipe (read end); unused with a terminal
  std::string pendingInput;
  bool closeInputWhenFlushed = false;
  // Still being set up (create/start/exec not answered yet): no exit event before the answer.
  bool launching = false;
  // The host was told about this process: it gets an exit event.
  bool reportExit = false;
  std::optional<int> waitStatus;
  Clock::time_point exitedAt;
  bool finished = false;  // exit handled (event sent if reportExit); fds closed

  bool exited() const { return waitStatus.has_value(); }
};

class ProcessTable {
 public:
  using FrameSender = std::function<void(const std::string& frame)>;
  explicit ProcessTable(FrameSender send) : send_(std::move(send)) {}

  // Throws AlreadyExists when `id` is in use.
  ProcessRecord& add(ProcessId id, std::string container);
  ProcessRecord* find(ProcessId id);
  ProcessRecord* findByPid(pid_t pid);
  void remove(ProcessId id);
  std::vector<ProcessId> idsOfContainer(const std::string& container) const;

  // Sets the pid, taking an exit status that was reaped before the pid was known.
  void setPid(ProcessId id, pid_t pid);
  // Takes the agent's ends of stdio from the child: 3 pipes, or 1 pty master.
  void attachStdio(ProcessId id, bool terminal, std::vector<UniqueFd> fds);

  // Reaps every exited child (the agent is PID 1: orphans too). Returns the ids that exited.
  std::vector<ProcessId> reapChildren();

  void queueInput(ProcessId id, std::string_view bytes);
  void closeInput(ProcessId id);

  // Output and pending-input descriptors, with handlers.
  void addToPoll(PollSet& set);
  // Sends due exit events. Call after each poll round.
  void finishExits(Clock::time_point now);
  // Milliseconds until the next exit event becomes due, or -1 when none is waiting.
  int msUntilNextDeadline(Clock::time_point now) const;

 private:
  void readOutput(ProcessId id, bool errors);
  void writeInput(ProcessId id);
  // The id of the process that exited, if it is in the table.
  std::optional<ProcessId> recordExit(pid_t pid, int status);
  void finish(ProcessRecord& record);

  FrameSender send_;
  std::map<ProcessId, ProcessRecord> records_;
  // Statuses of children not (yet) in the table: exec'd processes whose pid is still on its
  // way, helper processes, orphans. Bounded.
  std::map<pid_t, int> unclaimed_;
};

}  // namespace runvirt::agent

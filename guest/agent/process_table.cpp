#include "process_table.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "log.hpp"
#include "runvirt/error.hpp"

namespace runvirt::agent {

namespace {

constexpr std::size_t kMaxUnclaimed = 64;

void makeNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throwErrno("set O_NONBLOCK");
}

}  // namespace

ProcessRecord& ProcessTable::add(ProcessId id, std::string container) {
  if (records_.count(id)) {
    throw Error("process " + std::to_string(id) + " already exists", ErrorKind::AlreadyExists);
  }
  ProcessRecord& record = records_[id];
  record.id = id;
  record.container = std::move(container);
  return record;
}

ProcessRecord* ProcessTable::find(ProcessId id) {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

ProcessRecord* ProcessTable::findByPid(pid_t pid) {
  for (auto& [id, record] : records_) {
    if (record.pid == pid && !record.exited()) return &record;
  }
  return nullptr;
}

void ProcessTable::remove(ProcessId id) { records_.erase(id); }

std::vector<ProcessId> ProcessTable::idsOfContainer(const std::string& container) const {
  std::vector<ProcessId> ids;
  for (const auto& [id, record] : records_) {
    if (record.container == container) ids.push_back(id);
  }
  return ids;
}

void ProcessTable::setPid(ProcessId id, pid_t pid) {
  ProcessRecord* record = find(id);
  if (!record) return;
  record->pid = pid;
  if (auto it = unclaimed_.find(pid); it != unclaimed_.end()) {
    record->waitStatus = it->second;
    record->exitedAt = Clock::now();
    unclaimed_.erase(it);
  }
}

void ProcessTable::attachStdio(ProcessId id, bool terminal, std::vector<UniqueFd> fds) {
  ProcessRecord* record = find(id);
  if (!record) return;
  if (fds.size() != (terminal ? 1u : 3u)) throw Error("child sent a wrong number of stdio fds");
  for (auto& fd : fds) makeNonBlocking(fd.get());
  record->terminal = terminal;
  if (terminal) {
    record->output = std::move(fds[0]);
  } else {
    record->input = std::move(fds[0]);
    record->output = std::move(fds[1]);
    record->errors = std::move(fds[2]);
  }
}

std::optional<ProcessId> ProcessTable::recordExit(pid_t pid, int status) {
  if (ProcessRecord* record = findByPid(pid)) {
    record->waitStatus = status;
    record->exitedAt = Clock::now();
    log::debug("process %u (pid %d) exited with status %#x", record->id, pid, status);
    return record->id;
  }
  if (unclaimed_.size() >= kMaxUnclaimed) unclaimed_.erase(unclaimed_.begin());
  unclaimed_[pid] = status;
  return std::nullopt;
}

std::vector<ProcessId> ProcessTable::reapChildren() {
  std::vector<ProcessId> exited;
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) return exited;  // 0: none left to reap now; ECHILD: no children at all
    if (auto id = recordExit(pid, status)) exited.push_back(*id);
  }
}

void ProcessTable::queueInput(ProcessId id, std::string_view bytes) {
  ProcessRecord* record = find(id);
  if (!record || record->finished) return;  // the process is gone: its input has nowhere to go
  if (record->pendingInput.size() + bytes.size() > kMaxPendingInput) {
    log::warn("process %u does not read its stdin; dropping %zu bytes", id, bytes.size());
    return;
  }
  record->pendingInput.append(bytes);
}

void ProcessTable::closeInput(ProcessId id) {
  ProcessRecord* record = find(id);
  if (!record || record->terminal) return;  // a terminal has no separate end of input
  record->closeInputWhenFlushed = true;
  if (record->pendingInput.empty()) record->input.reset();
}

void ProcessTable::addToPoll(PollSet& set) {
  for (auto& [id, record] : records_) {
    ProcessId pid = id;
    if (record.output)
      set.add(record.output.get(), POLLIN, [this, pid](short) { readOutput(pid, false); });
    if (record.errors)
      set.add(record.errors.get(), POLLIN, [this, pid](short) { readOutput(pid, true); });
    int inputFd = record.terminal ? record.output.get() : record.input.get();
    if (inputFd >= 0 && !record.pendingInput.empty()) {
      set.add(inputFd, POLLOUT, [this, pid](short) { writeInput(pid); });
    }
  }
}

void ProcessTable::readOutput(ProcessId id, bool errors) {
  ProcessRecord* record = find(id);
  if (!record) return;
  UniqueFd& fd = errors ? record->errors : record->output;
  if (!fd) return;
  std::string buffer(kMaxDataChunk, '\0');
  ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {  // end of file; EIO on a pty master means the last slave was closed
    fd.reset();
    return;
  }
  buffer.resize(std::size_t(n));
  send_(encodeData(id, errors ? Stream::Stderr : Stream::Stdout, buffer));
}

void ProcessTable::writeInput(ProcessId id) {
  ProcessRecord* record = find(id);
  if (!record) return;
  int fd = record->terminal ? record->output.get() : record->input.get();
  if (fd < 0 || record->pendingInput.empty()) return;
  ssize_t n = ::write(fd, record->pendingInput.data(), record->pendingInput.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n < 0) {  // EPIPE: the process closed its stdin; what it did not read is dropped
    record->pendingInput.clear();
    if (!record->terminal) record->input.reset();
    return;
  }
  record->pendingInput.erase(0, std::size_t(n));
  if (record->pendingInput.empty() && record->closeInputWhenFlushed) record->input.reset();
}

void ProcessTable::finish(ProcessRecord& record) {
  record.finished = true;
  record.input.reset();
  record.output.reset();
  record.errors.reset();
  record.pendingInput.clear();
  if (!record.reportExit) return;
  ProcessExited event{record.id, 0, 0};
  int status = *record.waitStatus;
  if (WIFSIGNALED(status)) {
    event.signal = WTERMSIG(status);
  } else {
    event.code = WEXITSTATUS(status);
  }
  send_(encodeMessage(toJson(GuestMessage{event})));
}

void ProcessTable::finishExits(Clock::time_point now) {
  for (auto& [id, record] : records_) {
    if (record.finished || !record.exited() || record.launching) continue;
    bool drained = !record.output && !record.errors;
    if (drained || now >= record.exitedAt + kExitDrainLimit) finish(record);
  }
}

int ProcessTable::msUntilNextDeadline(Clock::time_point now) const {
  int next = -1;
  for (const auto& [id, record] : records_) {
    if (record.finished || !record.exited() || record.launching) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(record.exitedAt +
                                                                      kExitDrainLimit - now)
                    .count();
    int ms = left < 0 ? 0 : int(left) + 1;
    if (next < 0 || ms < next) next = ms;
  }
  return next;
}

}  // namespace runvirt::agent

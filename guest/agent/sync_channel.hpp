// The private channel between the agent and a child it is setting up: a SOCK_SEQPACKET
// socketpair (one message per send, file descriptors passed with SCM_RIGHTS). The child's end
// is close-on-exec, so the agent reads end-of-file exactly when the child exec'd or died.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

enum class SyncKind : char {
  Ready = 'R',  // child -> agent: container prepared, waiting for Start
  Error = 'E',  // child -> agent: a step failed; text is the error
  Stdio = 'F',  // child -> agent: the agent's ends of stdio; text is "pipes" or "pty"
  Pid = 'P',    // exec helper -> agent: pid (as the agent sees it) of the process it forked
  Start = 'S',  // agent -> child: run the process now
};

struct SyncMessage {
  SyncKind kind = SyncKind::Error;
  std::string text;
  std::vector<UniqueFd> fds;
};

// Both ends are close-on-exec.
std::pair<UniqueFd, UniqueFd> makeSyncPair();

// Blocking send; long texts are cut to fit one message.
void sendSync(int fd, SyncKind kind, std::string_view text = {}, const std::vector<int>& fds = {});
// std::nullopt on end of file. With `dontWait`, also std::nullopt when nothing is queued
// (check `wouldBlock`). Received fds are close-on-exec.
std::optional<SyncMessage> receiveSync(int fd, bool dontWait = false, bool* wouldBlock = nullptr);

}  // namespace runvirt::agent

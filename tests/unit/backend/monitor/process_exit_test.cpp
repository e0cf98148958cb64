// libvirt-backend/monitor/process_exit.cpp: a child that calls exitLike() ends as its status
// says, and a status no process can have still ends it (as SIGKILL), never stops it.
#include "monitor/process_exit.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace runvirt::backend {
namespace {

// How a child that called exitLike(status) ended, as its parent sees it.
std::string endOf(ExitStatus status) {
  pid_t pid = fork();
  if (pid == 0) exitLike(status);
  int wstatus = 0;
  if (waitpid(pid, &wstatus, WUNTRACED) != pid) return "waitpid failed";
  if (WIFSTOPPED(wstatus)) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return "stopped by " + std::to_string(WSTOPSIG(wstatus));
  }
  if (WIFSIGNALED(wstatus)) return "killed by " + std::to_string(WTERMSIG(wstatus));
  return "exit " + std::to_string(WEXITSTATUS(wstatus));
}

TEST(ExitLike, ExitsWithTheCodeOrDiesOfTheSignal) {
  EXPECT_EQ(endOf({0, 0}), "exit 0");
  EXPECT_EQ(endOf({42, 0}), "exit 42");
  EXPECT_EQ(endOf({255, 0}), "exit 255");
  EXPECT_EQ(endOf({0, SIGTERM}), "killed by " + std::to_string(SIGTERM));
  EXPECT_EQ(endOf({0, SIGKILL}), "killed by 9");
  EXPECT_EQ(endOf({0, SIGRTMAX}), "killed by " + std::to_string(SIGRTMAX));
}

// SIGSTOP used to stop the process (a monitor Docker waits for, forever), SIGCHLD to leave it
// exiting 145, code 256 to exit 0.
TEST(ExitLike, AStatusNoProcessCanHaveEndsItAsKilled) {
  for (int signal :
       {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGCHLD, SIGWINCH, SIGURG, 65, -3}) {
    EXPECT_EQ(endOf({0, signal}), "killed by 9") << "signal " << signal;
  }
  EXPECT_EQ(endOf({256, 0}), "killed by 9");
  EXPECT_EQ(endOf({-1, 0}), "killed by 9");
  EXPECT_EQ(endOf({1, SIGTERM}), "killed by 9");
}

}  // namespace
}  // namespace runvirt::backend

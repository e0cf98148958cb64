// libvirt-backend/common/process_info.cpp: pid + start time identify a process across pid reuse.
#include "common/process_info.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

TEST(ProcessInfo, OwnProcessIsAlive) {
  auto start = processStartTime(getpid());
  ASSERT_TRUE(start);
  EXPECT_GT(*start, 0u);
  EXPECT_TRUE(isSameProcessAlive(getpid(), *start));
  EXPECT_FALSE(isSameProcessAlive(getpid(), *start + 1));
}

TEST(ProcessInfo, DeadAndInvalidPids) {
  pid_t dead = test::deadPid();
  EXPECT_FALSE(processStartTime(dead));
  EXPECT_FALSE(isSameProcessAlive(dead, 0));
  EXPECT_FALSE(isSameProcessAlive(0, 0));
  EXPECT_FALSE(isSameProcessAlive(-1, 0));
}

TEST(ProcessInfo, ZombieIsNotAlive) {
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  auto start = processStartTime(child);
  ASSERT_TRUE(start);
  EXPECT_TRUE(isSameProcessAlive(child, *start));
  kill(child, SIGKILL);
  // Not reaped yet: a zombie until waitpid.
  for (int i = 0; i < 200 && isSameProcessAlive(child, *start); ++i) usleep(10000);
  EXPECT_FALSE(isSameProcessAlive(child, *start));
  waitpid(child, nullptr, 0);
}

}  // namespace
}  // namespace runvirt::backend

// libvirt-backend/common/subprocess.cpp: spawn without a shell, bounded reads of a child's output,
// waits with a timeout, Go's wording.
#include "common/subprocess.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "runvirt/unique_fd.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;

int exitStatusOf(const SpawnOptions& options) {
  auto status = waitWithTimeout(spawn(options), -1);
  EXPECT_TRUE(status && WIFEXITED(*status));
  return WEXITSTATUS(*status);
}

TEST(Subprocess, ArgvIsPassedAsIsAndEnvReplaced) {
  test::TempDir dir;
  SpawnOptions o;
  o.path = "/bin/sh";
  o.argv = {"sh", "-c", "printf '%s|%s|%s' \"$1\" \"$X\" \"$HOME\" > " + (dir / "out"), "zero",
            "a; rm -rf /"};
  o.env = std::vector<std::string>{"X=1"};
  EXPECT_EQ(exitStatusOf(o), 0);
  EXPECT_EQ(test::readFile(dir / "out"), "a; rm -rf /|1|");
}

TEST(Subprocess, ExitStatusIsReported) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.argv = {"sh", "-c", "exit 7"};
  EXPECT_EQ(exitStatusOf(o), 7);
}

TEST(Subprocess, ExecFailureIsAnError) {
  SpawnOptions o;
  o.path = "/nonexistent/program";
  o.argv = {"program"};
  EXPECT_EQ(errorOf([&] { spawn(o); }), "exec `/nonexistent/program`: No such file or directory");
}

TEST(Subprocess, FdsAreMappedAndOthersClosed) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
  UniqueFd devNull(open("/dev/null", O_RDONLY));
  int stray = fcntl(devNull.get(), F_DUPFD, 40);  // not CLOEXEC: the child must still not see it
  SpawnOptions o;
  o.path = "/bin/sh";
  o.argv = {
      "sh", "-c",
      "echo out >&3; [ -e /proc/self/fd/" + std::to_string(stray) + " ] && echo leaked >&3; true"};
  o.fds = {{0, devNull.get()}, {1, devNull.get()}, {2, devNull.get()}, {3, writeEnd.get()}};
  pid_t pid = spawn(o);
  writeEnd.reset();
  close(stray);
  std::string output;
  char buf[256];
  for (ssize_t n; (n = read(readEnd.get(), buf, sizeof buf)) > 0;)
    output.append(buf, static_cast<std::size_t>(n));
  waitWithTimeout(pid, -1);
  EXPECT_EQ(output, "out\n");
}

TEST(Subprocess, WaitTimesOut) {
  SpawnOptions o;
  o.path = "/bin/sleep";
  o.argv = {"sleep", "30"};
  pid_t pid = spawn(o);
  EXPECT_FALSE(waitWithTimeout(pid, 0.1));
  kill(pid, SIGKILL);
  auto status = waitWithTimeout(pid, 5);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status));
}

// A pipe whose write end holds `text` (closed when `close` is set).
struct Pipe {
  UniqueFd read, write;
  explicit Pipe(const std::string& text, bool close) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
    EXPECT_EQ(::write(write.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
    if (close) write.reset();
  }
};

TEST(ReadUntil, StopsAtEndOfFile) {
  Pipe p("all of it", true);
  ReadOutcome r = readUntil(p.read.get(), 5, [](const std::string&) { return false; });
  EXPECT_EQ(r.output, "all of it");
  EXPECT_TRUE(r.endOfFile);
}

TEST(ReadUntil, StopsWhenEnough) {
  Pipe p("banner here", false);
  ReadOutcome r =
      readUntil(p.read.get(), 5, [](const std::string& out) { return contains(out, "banner"); });
  EXPECT_EQ(r.output, "banner here");
  EXPECT_FALSE(r.endOfFile);
}

TEST(ReadUntil, StopsAtTheTimeout) {
  Pipe p("partial", false);
  ReadOutcome r = readUntil(p.read.get(), 0.05, [](const std::string&) { return false; });
  EXPECT_EQ(r.output, "partial");
  EXPECT_FALSE(r.endOfFile);
}

TEST(ReadToEnd, ReadsEveryPipeToItsEnd) {
  Pipe out("stdout text", true), err("stderr text", true);
  std::vector<ReadOutcome> r = readToEnd({out.read.get(), err.read.get()}, 5, 1024);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].output, "stdout text");
  EXPECT_EQ(r[1].output, "stderr text");
  EXPECT_TRUE(r[0].endOfFile && r[1].endOfFile);
}

TEST(ReadToEnd, KeepsTheFirstBytesOfEachPipe) {
  Pipe out("0123456789", true);
  std::vector<ReadOutcome> r = readToEnd({out.read.get()}, std::nullopt, 4);
  EXPECT_EQ(r[0].output, "0123");
  EXPECT_TRUE(r[0].endOfFile);
}

TEST(ReadToEnd, StopsAtTheTimeoutWhileAPipeIsOpen) {
  Pipe out("done", true), err("partial", false);
  std::vector<ReadOutcome> r = readToEnd({out.read.get(), err.read.get()}, 0.05, 1024);
  EXPECT_EQ(r[0].output, "done");
  EXPECT_TRUE(r[0].endOfFile);
  EXPECT_EQ(r[1].output, "partial");
  EXPECT_FALSE(r[1].endOfFile);
}

TEST(ReadToEnd, DrainsBothPipesOfAChildThatFillsOne) {
  // 1 MiB on stderr before anything on stdout: a reader of stdout alone would wait forever.
  int outFds[2], errFds[2];
  ASSERT_EQ(pipe2(outFds, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(errFds, O_CLOEXEC), 0);
  UniqueFd outRead(outFds[0]), outWrite(outFds[1]), errRead(errFds[0]), errWrite(errFds[1]);
  UniqueFd devNull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  SpawnOptions o;
  o.path = "/bin/sh";
  o.argv = {"sh", "-c", "head -c 1048576 /dev/zero >&2; echo out"};
  o.fds = {{0, devNull.get()}, {1, outWrite.get()}, {2, errWrite.get()}};
  pid_t pid = spawn(o);
  outWrite.reset();
  errWrite.reset();
  std::vector<ReadOutcome> r = readToEnd({outRead.get(), errRead.get()}, 10, 2 << 20);
  waitWithTimeout(pid, -1);
  EXPECT_EQ(r[0].output, "out\n");
  EXPECT_EQ(r[1].output.size(), 1048576u);
  EXPECT_TRUE(r[0].endOfFile && r[1].endOfFile);
}

TEST(Subprocess, DescribeWaitStatus) {
  EXPECT_EQ(describeWaitStatus(3 << 8), "exit status 3");
  EXPECT_EQ(describeWaitStatus(SIGKILL), "signal: Killed");
  EXPECT_EQ(describeWaitStatus(SIGTERM), "signal: Terminated");
}

}  // namespace
}  // namespace runvirt::backend

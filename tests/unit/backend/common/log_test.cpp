// libvirt-backend/common/log.cpp: where `--log` lines go. A symlink as the file's last component
// is followed only to a stream (`--log /dev/stderr`), never to a file root would append to.
#include "common/log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "runvirt/unique_fd.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

class LogFileTest : public ::testing::Test {
 protected:
  void TearDown() override { log::configure(saved_); }

  void configureTo(const std::string& path) { log::configure({path, log::Format::Text, false}); }

  log::Options saved_ = log::options();
  test::TempDir dir;
};

TEST_F(LogFileTest, AMissingFileIsCreatedAndAppendedTo) {
  test::writeFile(dir / "log", "earlier\n");
  configureTo(dir / "log");
  log::error("a line");
  EXPECT_TRUE(log::toFile());
  std::string text = test::readFile(dir / "log");
  EXPECT_EQ(text.substr(0, 8), "earlier\n");
  EXPECT_TRUE(test::contains(text, "a line"));
  configureTo(dir / "new.log");
  log::error("another");
  EXPECT_TRUE(test::contains(test::readFile(dir / "new.log"), "another"));
}

// It used to be followed: root appended its lines to whatever file the link named.
TEST_F(LogFileTest, ASymlinkToAFileIsNotFollowed) {
  test::writeFile(dir / "victim", "precious\n");
  ASSERT_EQ(symlink((dir / "victim").c_str(), (dir / "log").c_str()), 0);
  configureTo(dir / "log");
  EXPECT_FALSE(log::toFile());  // stderr, as for any log file that cannot be opened
  log::error("a line from the log-file test, on stderr");
  EXPECT_EQ(test::readFile(dir / "victim"), "precious\n");
}

// ... and created the file it named.
TEST_F(LogFileTest, ADanglingSymlinkCreatesNothing) {
  ASSERT_EQ(symlink((dir / "made-by-root").c_str(), (dir / "log").c_str()), 0);
  configureTo(dir / "log");
  EXPECT_FALSE(log::toFile());
  struct stat st {};
  EXPECT_NE(lstat((dir / "made-by-root").c_str(), &st), 0);
}

// `--log /dev/stderr`: a symlink to /proc/self/fd/2, which leads to a pipe, a terminal or
// /dev/null.
TEST_F(LogFileTest, ASymlinkToAStreamIsFollowed) {
  int pipeFds[2];
  ASSERT_EQ(pipe2(pipeFds, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
  std::string target = "/proc/self/fd/" + std::to_string(writeEnd.get());
  ASSERT_EQ(symlink(target.c_str(), (dir / "stderr").c_str()), 0);
  configureTo(dir / "stderr");
  EXPECT_TRUE(log::toFile());
  log::error("through the pipe");
  char buf[512];
  ssize_t n = read(readEnd.get(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_TRUE(test::contains(std::string(buf, static_cast<std::size_t>(n)), "through the pipe"));

  ASSERT_EQ(symlink("/dev/null", (dir / "null").c_str()), 0);
  configureTo(dir / "null");
  EXPECT_TRUE(log::toFile());
}

}  // namespace
}  // namespace runvirt::backend

// libvirt-backend/common/files.cpp: atomic writes, mkdir -p.
#include "common/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "runvirt/file_io.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

TEST(Files, WriteAtomicReplacesTheFileWithTheMode) {
  test::TempDir dir;
  std::string path = dir / "state.json";
  writeFileAtomic(path, "old", 0644);
  writeFileAtomic(path, "new", 0600);
  EXPECT_EQ(readFile(path), "new");
  EXPECT_FALSE(pathExists(path + ".tmp"));
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

std::vector<std::string> namesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// `--pid-file` in a directory someone else can write to: the temporary used to be `<path>.tmp`,
// opened without O_EXCL|O_NOFOLLOW, so a symlink planted there had root truncate, write and chmod
// its target, and the pid file became that symlink.
TEST(Files, WriteAtomicDoesNotFollowASymlinkAtTheOldTemporaryName) {
  test::TempDir dir;
  std::string victim = dir / "victim";
  std::string pidFile = dir / "container.pid";
  writeFileAtomic(victim, "precious", 0600);
  ASSERT_EQ(symlink(victim.c_str(), (pidFile + ".tmp").c_str()), 0);
  writeFileAtomic(pidFile, "4242", 0644);
  EXPECT_EQ(readFile(victim), "precious");
  struct stat st {};
  ASSERT_EQ(stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(lstat(pidFile.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(readFile(pidFile), "4242");
  EXPECT_EQ(namesIn(dir.path()),
            (std::vector<std::string>{"container.pid", "container.pid.tmp", "victim"}));
}

TEST(Files, WriteAtomicReplacesASymlinkAtThePathInsteadOfWritingThroughIt) {
  test::TempDir dir;
  std::string victim = dir / "victim";
  writeFileAtomic(victim, "precious", 0600);
  ASSERT_EQ(symlink(victim.c_str(), (dir / "state.json").c_str()), 0);
  writeFileAtomic(dir / "state.json", "{}", 0600);
  EXPECT_EQ(readFile(victim), "precious");
  struct stat st {};
  ASSERT_EQ(lstat((dir / "state.json").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(Files, WriteAtomicThatFailsLeavesNoTemporaryBehind) {
  test::TempDir dir;
  ASSERT_EQ(mkdir((dir / "taken").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((dir / "taken/sub").c_str(), 0700), 0);
  EXPECT_THROW(writeFileAtomic(dir / "taken", "x", 0600),
               Error);  // rename over a non-empty directory
  EXPECT_EQ(namesIn(dir.path()), std::vector<std::string>{"taken"});
}

TEST(Files, MakeDirsCreatesEveryLevel) {
  test::TempDir dir;
  makeDirs(dir / "a/b/c", 0700);
  EXPECT_TRUE(pathExists(dir / "a/b/c"));
  EXPECT_NO_THROW(makeDirs(dir / "a/b/c"));
  struct stat st {};
  ASSERT_EQ(stat((dir / "a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(Files, ExecutablePathIsThisBinaryResolved) {
  std::string path = executablePath();
  EXPECT_EQ(path, std::filesystem::canonical("/proc/self/exe").string());
  EXPECT_EQ(path.front(), '/');
  EXPECT_EQ(path.substr(path.rfind('/') + 1), "unit-tests");
}

}  // namespace
}  // namespace runvirt::backend

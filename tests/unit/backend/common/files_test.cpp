// libvirt-backend/common/files.cpp: atomic writes, mkdir -p.
#include "common/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

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
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Files, MakeDirsCreatesEveryLevel) {
  test::TempDir dir;
  makeDirs(dir / "a/b/c", 0700);
  EXPECT_TRUE(pathExists(dir / "a/b/c"));
  EXPECT_NO_THROW(makeDirs(dir / "a/b/c"));
  struct stat st{};
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

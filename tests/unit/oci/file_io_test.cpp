// oci/src/file_io.cpp: whole-file reads shared by the host and the guest agent.
#include "runvirt/file_io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runvirt/unique_fd.hpp"
#include "unit/test_util.hpp"

namespace runvirt {
namespace {

using test::errorOf;

TEST(FileIo, ReadFileReturnsTheWholeFile) {
  test::TempDir dir;
  std::string big(100000, 'x');  // more than one read's worth
  test::writeFile(dir / "big", big);
  EXPECT_EQ(readFile(dir / "big"), big);
  test::writeFile(dir / "empty", "");
  EXPECT_EQ(readFile(dir / "empty"), "");
}

TEST(FileIo, ReadFileReadsProcfsFilesThatReportNoSize) {
  EXPECT_NE(readFile("/proc/self/stat").find(std::to_string(getpid())), std::string::npos);
}

TEST(FileIo, ReadMissingFileNamesItAndIsNotFound) {
  test::TempDir dir;
  EXPECT_EQ(errorOf([&] { readFile(dir / "nope"); }),
            "open " + (dir / "nope") + ": No such file or directory");
  try {
    readFile(dir / "nope");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_EQ(e.errnum(), ENOENT);
  }
}

TEST(FileIo, ReadFailuresNameThePath) {
  test::TempDir dir;
  EXPECT_EQ(errorOf([&] { readFile(dir.path()); }), "read " + dir.path() + ": Is a directory");
}

TEST(FileIo, ReadFileIfExistsIsEmptyOnlyForAMissingFile) {
  test::TempDir dir;
  EXPECT_EQ(readFileIfExists(dir / "nope"), std::nullopt);
  test::writeFile(dir / "there", "text");
  EXPECT_EQ(readFileIfExists(dir / "there"), "text");
  EXPECT_EQ(errorOf([&] { readFileIfExists(dir.path()); }),
            "read " + dir.path() + ": Is a directory");
}

TEST(FileIo, ReadFileBoundedRefusesALargerFile) {
  test::TempDir dir;
  test::writeFile(dir / "ten", "0123456789");
  EXPECT_EQ(readFileBounded(dir / "ten", 10), "0123456789");
  EXPECT_EQ(errorOf([&] { readFileBounded(dir / "ten", 9); }),
            "read " + (dir / "ten") + ": larger than 9 bytes");
  try {
    readFileBounded(dir / "ten", 0);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
  }
  EXPECT_EQ(errorOf([&] { readFileBounded(dir / "nope", 9); }),
            "open " + (dir / "nope") + ": No such file or directory");
}

TEST(FileIo, ReadFileBoundedStopsReadingAnEndlessFile) {
  EXPECT_EQ(errorOf([] { readFileBounded("/dev/zero", 1 << 20); }),
            "read /dev/zero: larger than 1048576 bytes");
}

TEST(FileIo, ReadAllReadsFromTheOffsetToTheEnd) {
  UniqueFd fd(memfd_create("file-io-test", MFD_CLOEXEC));
  ASSERT_TRUE(fd);
  ASSERT_EQ(write(fd.get(), "skip:rest", 9), 9);
  ASSERT_EQ(lseek(fd.get(), 5, SEEK_SET), 5);
  EXPECT_EQ(readAll(fd.get(), "test memfd"), "rest");
  EXPECT_EQ(errorOf([] { readAll(-1, "nothing"); }), "read nothing: Bad file descriptor");
}

}  // namespace
}  // namespace runvirt

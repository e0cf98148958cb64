// libvirt-backend/storage/host_mounts.cpp: mount points from /proc/self/mountinfo lines, rm -rf
// that refuses mount points.
#include "storage/host_mounts.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/files.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;

TEST(Mountinfo, MountPointIsTheFifthField) {
  EXPECT_EQ(
      mountPointOfMountinfoLine("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"),
      "/mnt2");
  EXPECT_EQ(mountPointOfMountinfoLine("22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw"),
            "/");
}

TEST(Mountinfo, OctalEscapesAreDecoded) {
  EXPECT_EQ(mountPointOfMountinfoLine("40 22 0:50 / /run/my\\040share rw - tmpfs tmpfs rw"),
            "/run/my share");
  EXPECT_EQ(mountPointOfMountinfoLine("40 22 0:50 / /a\\011b\\012c\\134d rw - tmpfs tmpfs rw"),
            "/a\tb\nc\\d");
}

TEST(Mountinfo, BackslashWithoutOctalDigitsIsKept) {
  EXPECT_EQ(mountPointOfMountinfoLine("40 22 0:50 / /a\\9xy rw - tmpfs tmpfs rw"), "/a\\9xy");
}

TEST(Mountinfo, EscapeAtTheEndOfTheField) {
  EXPECT_EQ(mountPointOfMountinfoLine("40 22 0:50 / /trailing\\040 rw - tmpfs tmpfs rw"),
            "/trailing ");
}

TEST(Mountinfo, NothingIsMountedUnderAFreshDirectory) {
  test::TempDir dir;
  EXPECT_TRUE(mountPointsUnder(dir.path()).empty());
  EXPECT_NO_THROW(unmountAllUnder(dir.path()));
}

TEST(Mountinfo, ProcIsAMountPoint) {
  auto mounts = mountPointsUnder("/proc");
  ASSERT_FALSE(mounts.empty());
  EXPECT_EQ(mounts.front(), "/proc");
}

TEST(RemoveTree, RemovesEverythingButFollowsNoSymlink) {
  test::TempDir dir;
  test::writeFile(dir / "keep/precious", "x");
  test::writeFile(dir / "tree/a/b/file", "x");
  ASSERT_EQ(symlink((dir / "keep").c_str(), (dir / "tree/link").c_str()), 0);
  removeTree(dir / "tree");
  EXPECT_FALSE(pathExists(dir / "tree"));
  EXPECT_TRUE(pathExists(dir / "keep/precious"));
  EXPECT_NO_THROW(removeTree(dir / "tree"));
}

TEST(Mountinfo, AnyDirectorySpellingFindsTheSameMounts) {
  for (const char* spelling : {"/proc/", "/./proc", "//proc", "/sys/../proc"}) {
    auto mounts = mountPointsUnder(spelling);
    ASSERT_FALSE(mounts.empty()) << spelling;
    EXPECT_EQ(mounts.front(), "/proc") << spelling;
  }
}

// A bind mount left below a directory spelled as mountinfo does not spell it (issue 11: a
// vm_dir of /var/run/./runvirt-vms): removal stops at the mount, the bound source is kept.
TEST(RemoveTree, NeverDescendsIntoAMountHoweverTheTreeIsSpelled) {
  test::TempDir dir;
  test::writeFile(dir / "source/precious", "x");
  test::writeFile(dir / "tree/mnt/.keep", "");
  ASSERT_EQ(mount((dir / "source").c_str(), (dir / "tree/mnt").c_str(), nullptr, MS_BIND, nullptr),
            0);
  struct Unmount {  // even when an assertion fails, so TempDir can go
    std::string at;
    ~Unmount() { umount2(at.c_str(), MNT_DETACH); }
  } unmount{dir / "tree/mnt"};
  for (const std::string& spelling : {dir.path() + "/./tree", dir.path() + "//tree/"}) {
    EXPECT_TRUE(contains(errorOf([&] { removeTree(spelling); }), "refusing to remove "))
        << spelling;
  }
  EXPECT_TRUE(pathExists(dir / "source/precious"));
  unmountAllUnder(dir.path() + "/./tree");
  EXPECT_TRUE(mountPointsUnder(dir / "tree").empty());
  removeTree(dir / "tree");
  EXPECT_TRUE(pathExists(dir / "source/precious"));
}

TEST(RemoveTree, RefusesAMountPoint) {
  EXPECT_TRUE(contains(errorOf([] { removeTree("/proc"); }), "refusing to remove /proc: "));
}

}  // namespace
}  // namespace runvirt::backend

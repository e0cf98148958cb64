// libvirt-backend/src/host_mounts.cpp: mount points from /proc/self/mountinfo lines.
#include "runvirt/backend/host_mounts.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

TEST(Mountinfo, MountPointIsTheFifthField) {
  EXPECT_EQ(mountPointOfMountinfoLine("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"), "/mnt2");
  EXPECT_EQ(mountPointOfMountinfoLine("22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw"), "/");
}

TEST(Mountinfo, OctalEscapesAreDecoded) {
  EXPECT_EQ(mountPointOfMountinfoLine("40 22 0:50 / /run/my\\040share rw - tmpfs tmpfs rw"), "/run/my share");
  EXPECT_EQ(mountPointOfMountinfoLine("40 22 0:50 / /a\\011b\\012c\\134d rw - tmpfs tmpfs rw"), "/a\tb\nc\\d");
}

TEST(Mountinfo, BackslashWithoutOctalDigitsIsKept) {
  EXPECT_EQ(mountPointOfMountinfoLine("40 22 0:50 / /a\\9xy rw - tmpfs tmpfs rw"), "/a\\9xy");
}

TEST(Mountinfo, EscapeAtTheEndOfTheField) {
  EXPECT_EQ(mountPointOfMountinfoLine("40 22 0:50 / /trailing\\040 rw - tmpfs tmpfs rw"), "/trailing ");
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

}  // namespace
}  // namespace runvirt::backend

// Mount points made inside a root that holds hostile symlinks never land outside it.
#include "runvirt/in_root.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "runvirt/error.hpp"
#include "unit/test_util.hpp"

namespace runvirt {
namespace {

namespace fs = std::filesystem;

struct InRoot : ::testing::Test {
  test::TempDir root, outside;
  UniqueFd rootFd{open(root.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
};

TEST_F(InRoot, MakesMissingDirectoriesAndAFinalFile) {
  makeMountpointInRoot(rootFd.get(), "/a/b/c", false);
  makeMountpointInRoot(rootFd.get(), "/etc/resolv.conf", true);
  EXPECT_TRUE(fs::is_directory(root.path() + "/a/b/c"));
  EXPECT_TRUE(fs::is_regular_file(root.path() + "/etc/resolv.conf"));
}

TEST_F(InRoot, AnAbsoluteSymlinkIsFollowedInsideTheRoot) {
  ASSERT_EQ(symlink(outside.path().c_str(), (root.path() + "/link").c_str()), 0);
  makeMountpointInRoot(rootFd.get(), "/link/made", false);
  EXPECT_FALSE(fs::exists(outside.path() + "/made"));
  EXPECT_TRUE(fs::is_directory(root.path() + outside.path() + "/made"));
}

TEST_F(InRoot, DotDotInASymlinkStopsAtTheRoot) {
  ASSERT_EQ(symlink("../../../../..", (root.path() + "/up").c_str()), 0);
  makeMountpointInRoot(rootFd.get(), "/up/tmp-made", true);
  EXPECT_TRUE(fs::is_regular_file(root.path() + "/tmp-made"));
  EXPECT_FALSE(fs::exists("/tmp-made"));
}

TEST_F(InRoot, ASymlinkLoopIsRefused) {
  ASSERT_EQ(symlink("/loop", (root.path() + "/loop").c_str()), 0);
  EXPECT_THROW(makeMountpointInRoot(rootFd.get(), "/loop/x", false), Error);
}

}  // namespace
}  // namespace runvirt

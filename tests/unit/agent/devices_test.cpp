// guest/agent/devices.cpp: linux.devices nodes made in a container root (needs root for mknod,
// as the unit tests run), and disks found by serial in a fake /sys/block.
#include "devices.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>

#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"
#include "unit/test_util.hpp"

namespace runvirt::agent {
namespace {

Device charDevice(const std::string& path, unsigned major, unsigned minor, unsigned mode,
                  unsigned uid) {
  Device d;
  d.path = path;
  d.type = "c";
  d.major = major;
  d.minor = minor;
  d.fileMode = mode;
  d.uid = uid;
  d.gid = uid;
  return d;
}

struct stat statOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

class Devices : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "the agent's device tests make device nodes: run them as root";
    std::filesystem::create_directories(root_ / "dev");
    rootFd_ = UniqueFd(::open(root_.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  test::TempDir root_;
  UniqueFd rootFd_;
};

TEST_F(Devices, NodesGetTheirTypeNumbersModeAndOwnerWithDirectoriesAbove) {
  Device fifo;
  fifo.path = "/dev/queue";
  fifo.type = "p";
  fifo.fileMode = 0600;
  createDevices(rootFd_.get(), {charDevice("/dev/net/tun", 10, 200, 0640, 1000), fifo});
  struct stat tun = statOf(root_ / "dev/net/tun");
  EXPECT_TRUE(S_ISCHR(tun.st_mode));
  EXPECT_EQ(major(tun.st_rdev), 10u);
  EXPECT_EQ(minor(tun.st_rdev), 200u);
  EXPECT_EQ(tun.st_mode & 07777, 0640u) << "the umask must not change the spec's mode";
  EXPECT_EQ(tun.st_uid, 1000u);
  EXPECT_EQ(tun.st_gid, 1000u);
  EXPECT_TRUE(S_ISDIR(statOf(root_ / "dev/net").st_mode));
  struct stat queue = statOf(root_ / "dev/queue");
  EXPECT_TRUE(S_ISFIFO(queue.st_mode));
  EXPECT_EQ(queue.st_mode & 07777, 0600u);
}

TEST_F(Devices, ANodeAlreadyThereIsKept) {
  test::writeFile(root_ / "dev/fuse", "a file\n");
  createDevices(rootFd_.get(), {charDevice("/dev/fuse", 10, 229, 0666, 0)});
  EXPECT_TRUE(S_ISREG(statOf(root_ / "dev/fuse").st_mode));
}

TEST_F(Devices, ASymlinkedDirectoryIsNotFollowedOutOfTheRoot) {
  test::TempDir elsewhere;
  std::filesystem::create_directory_symlink(elsewhere.path(), root_ / "dev/net");
  EXPECT_THROW(createDevices(rootFd_.get(), {charDevice("/dev/net/tun", 10, 200, 0666, 0)}), Error);
  EXPECT_FALSE(std::filesystem::exists(elsewhere / "tun"));
}

TEST(BlockDeviceNumbers, TheDiskWithTheSerial) {
  test::TempDir sys;
  test::writeFile(sys / "vda/serial", "runvirt-disk-1\n");
  test::writeFile(sys / "vda/dev", "254:0\n");
  test::writeFile(sys / "vdb/serial", "runvirt-disk-0\n");
  test::writeFile(sys / "vdb/dev", "254:16\n");
  std::filesystem::create_directories(sys / "loop0");  // no serial file
  EXPECT_EQ(blockDeviceNumbers(sys.path(), "runvirt-disk-0", std::chrono::milliseconds(0)),
            "254:16");
  try {
    blockDeviceNumbers(sys.path(), "runvirt-disk-2", std::chrono::milliseconds(50));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "no disk with serial `runvirt-disk-2`");
  }
}

}  // namespace
}  // namespace runvirt::agent

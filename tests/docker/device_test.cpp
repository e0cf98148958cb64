// `docker run --device`: the node is there with the host device's type and numbers, and a host
// block device is readable and writable at the requested path, as under runc. A device a VM
// cannot provide fails `docker run` with a message naming it (runc would pass the host's).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "docker/harness.hpp"

namespace runvirt::dockertest {
namespace {

class Devices : public DockerTest {
 protected:
  void TearDown() override {
    DockerTest::TearDown();
    if (!loop_.empty()) command({"losetup", "-d", loop_});
    if (!image_.empty()) ::unlink(image_.c_str());
  }

  // A 4 MiB loop device whose first bytes are "runvirt-disk\n".
  std::string makeLoopDevice() {
    char pattern[] = "/tmp/rvtest-disk.XXXXXX";
    int fd = mkstemp(pattern);
    EXPECT_GE(fd, 0);
    ::close(fd);
    image_ = pattern;
    { std::ofstream(image_) << "runvirt-disk\n"; }
    EXPECT_EQ(::truncate(image_.c_str(), 4 << 20), 0);
    Result r = command({"losetup", "-f", "--show", image_});
    EXPECT_EQ(r.status, 0) << r.err;
    loop_ = trim(r.out);
    return loop_;
  }

  std::string loop_, image_;
};

TEST_F(Devices, ACharacterDeviceLikeRunc) {
  Result r = expectSame(
      {"--device", "/dev/fuse", "busybox", "sh", "-c",
       "stat -c '%n %F %t:%T' /dev/fuse; cat /dev/fuse 2>&1 >/dev/null | grep -c 'Operation not "
       "permitted\\|Invalid argument\\|No such device' || true"});
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "/dev/fuse character special file a:e5");
}

TEST_F(Devices, AHostBlockDeviceAtTheRequestedPathLikeRunc) {
  std::string loop = makeLoopDevice();
  ASSERT_FALSE(loop.empty());
  Result r = expectSame({"--device", loop + ":/dev/xvda", "busybox", "sh", "-c",
                         "stat -c '%F' /dev/xvda; head -c 13 /dev/xvda"});
  EXPECT_EQ(r.out, "block special file\nrunvirt-disk\n");
  // Read-only (`:r`): the container may read, not write; under runvirt the host's disk is
  // read-only in QEMU, so not even a guest root with every capability could write it.
  r = expectSame({"--device", loop + ":/dev/xvda:r", "busybox", "sh", "-c",
                  "head -c 13 /dev/xvda; echo x | dd of=/dev/xvda seek=8 2>/dev/null && echo "
                  "written || echo refused"});
  EXPECT_EQ(r.out, "runvirt-disk\nrefused\n");
}

TEST_F(Devices, ADeviceAVmCannotProvideIsRefusedByName) {
  struct stat st {};
  ASSERT_EQ(::stat("/dev/loop-control", &st), 0)
      << "this test hands the container /dev/loop-control";
  Result r = docker({"run", "--rm", "--runtime=runvirt", "--name", name("runvirt"), "--device",
                     "/dev/loop-control", "busybox", "true"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("device `/dev/loop-control` (c 10:237) cannot be provided in the VM"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace runvirt::dockertest

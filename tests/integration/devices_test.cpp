// linux.devices (`docker run --device`) with the real libvirtd and QEMU: character devices the
// guest kernel has become nodes with the spec's numbers, mode and owner; a host block device is
// a virtio-blk disk at the requested path, read-only when the cgroup rules say so; a device the
// guest cannot provide is refused by name before anything starts.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "integration/harness.hpp"

namespace runvirt::test {
namespace {

nlohmann::json device(const std::string& path, const std::string& type, int major, int minor) {
  return {{"path", path}, {"type", type}, {"major", major}, {"minor", minor}};
}

class Devices : public RuntimeTest {
 protected:
  void TearDown() override {
    if (!loop_.empty()) runCommand({"losetup", "-d", loop_});
    if (!image_.empty()) ::unlink(image_.c_str());
    RuntimeTest::TearDown();
    // QEMU's own nodes for the disks go with the VM.
    Result left = runCommand({"sh", "-c", "ls -A /dev/runvirt 2>/dev/null"});
    EXPECT_EQ(left.out, "") << "disk nodes left in /dev/runvirt";
  }

  // A 4 MiB loop device whose first bytes are "runvirt-disk\n"; returns its major:minor.
  std::pair<int, int> makeLoopDevice() {
    image_ = scratch_ + "/disk.img";
    { std::ofstream(image_) << "runvirt-disk\n"; }
    EXPECT_EQ(::truncate(image_.c_str(), 4 << 20), 0);
    Result r = runCommand({"losetup", "-f", "--show", image_});
    EXPECT_EQ(r.status, 0) << "losetup: " << r.err;
    loop_ = r.out.substr(0, r.out.find('\n'));
    Result numbers = runCommand({"stat", "-c", "%t %T", loop_});
    unsigned major = 0, minor = 0;
    EXPECT_EQ(std::sscanf(numbers.out.c_str(), "%x %x", &major, &minor), 2) << numbers.out;
    return {static_cast<int>(major), static_cast<int>(minor)};
  }

  // `count` bytes of the loop device's backing file at `offset`: what the guest wrote.
  std::string imageBytes(std::streamoff offset, std::size_t count) {
    std::ifstream disk(image_);
    disk.seekg(offset);
    std::string bytes(count, '\0');
    disk.read(bytes.data(), static_cast<std::streamsize>(count));
    return bytes;
  }

  std::string loop_, image_;
};

TEST_F(Devices, CharacterDevicesAreTheGuestKernelsWithTheSpecsModeAndOwner) {
  std::string bundle =
      makeBundle({"sh", "-c",
                  "stat -c '%n %F %t:%T %a %u:%g' /dev/fuse /dev/net/tun; cat /dev/net/tun 2>&1 | "
                  "grep -c 'bad state'"},
                 [](nlohmann::json& c) {
                   auto fuse = device("/dev/fuse", "c", 10, 229);
                   fuse["fileMode"] = 0640;
                   fuse["uid"] = 1000;
                   fuse["gid"] = 1001;
                   c["linux"]["devices"] = {fuse, device("/dev/net/tun", "c", 10, 200)};
                 });
  Result r = runvirt({"run", "--bundle", bundle, "chardev"});
  EXPECT_EQ(r.status, 0) << r.err;
  // tun's driver answers an unconfigured open with EBADFD: the node reaches a real driver.
  EXPECT_EQ(r.out,
            "/dev/fuse character special file a:e5 640 1000:1001\n"
            "/dev/net/tun character special file a:c8 666 0:0\n1\n");
}

TEST_F(Devices, AHostBlockDeviceIsADiskAtTheRequestedPath) {
  auto [major, minor] = makeLoopDevice();
  ASSERT_FALSE(loop_.empty());
  std::string bundle = makeBundle(
      {"sh", "-c",
       "stat -c '%F' /dev/xvda; head -c 13 /dev/xvda; echo from-guest | dd of=/dev/xvda bs=512 "
       "seek=8 "
       "conv=fsync 2>/dev/null && echo written"},
      [&](nlohmann::json& c) { c["linux"]["devices"] = {device("/dev/xvda", "b", major, minor)}; });
  Result r = runvirt({"run", "--bundle", bundle, "blockdev"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "block special file\nrunvirt-disk\nwritten\n");
  EXPECT_EQ(imageBytes(4096, 10), "from-guest");
}

TEST_F(Devices, ABlockDeviceTheRulesAllowOnlyToReadIsReadOnlyAtTheHost) {
  auto [major, minor] = makeLoopDevice();
  ASSERT_FALSE(loop_.empty());
  // Full capabilities: whatever the guest does, QEMU's disk is read-only.
  std::string bundle = makeBundle(
      {"sh", "-c",
       "head -c 13 /dev/xvda; echo from-guest | dd of=/dev/xvda bs=512 seek=8 conv=fsync "
       "2>/dev/null "
       "&& echo written || echo refused"},
      [&](nlohmann::json& c) {
        c["process"].erase("capabilities");
        c["linux"]["devices"] = {device("/dev/xvda", "b", major, minor)};
        c["linux"]["resources"]["devices"] = {
            {{"allow", false}, {"access", "rwm"}},
            {{"allow", true}, {"type", "b"}, {"major", major}, {"minor", minor}, {"access", "r"}}};
      });
  Result r = runvirt({"run", "--bundle", bundle, "blockro"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "runvirt-disk\nrefused\n");
  EXPECT_EQ(imageBytes(4096, 10), std::string(10, '\0'));
}

TEST_F(Devices, DevicesTheGuestCannotProvideAreRefusedByNameAndNothingIsLeft) {
  struct Case {
    nlohmann::json device;
    std::string message;
  } cases[] = {
      {device("/dev/kvm", "c", 10, 232),
       "device `/dev/kvm` (c 10:232) cannot be provided in the VM"},
      {device("/dev/xvdz", "b", 4095, 1048575),
       "device `/dev/xvdz` (b 4095:1048575): no block device 4095:1048575"},
      {device("/tmp/null", "c", 1, 3), "device `/tmp/null` must be a path under /dev"},
  };
  for (const auto& c : cases) {
    std::string bundle = makeBundle(
        {"true"}, [&](nlohmann::json& config) { config["linux"]["devices"] = {c.device}; });
    Result r = runvirt({"create", "--bundle", bundle, "baddev"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_FALSE(exists(root_ + "/baddev")) << "state left behind";
    Result domains = runCommand({"virsh", "-c", "qemu:///system", "list", "--all", "--title"});
    EXPECT_EQ(domains.out.find("runvirt container baddev"), std::string::npos) << domains.out;
  }
}

}  // namespace
}  // namespace runvirt::test

// libvirt-backend/vm/guest_devices.cpp: which linux.devices the VM can provide and how, and
// the access the spec's device cgroup rules leave.
#include "vm/guest_devices.hpp"

#include <gtest/gtest.h>

#include "runvirt/error.hpp"
#include "runvirt/oci/spec_json.hpp"

namespace runvirt::backend {
namespace {

oci::Spec withDevices(std::vector<oci::Device> devices, std::vector<oci::DeviceRule> rules = {}) {
  oci::Spec spec = oci::defaultSpec();
  spec.linux->devices = std::move(devices);
  spec.linux->resources = oci::Resources{};
  spec.linux->resources->devices = std::move(rules);
  return spec;
}

std::string noBlockDevices(std::int64_t, std::int64_t) {
  throw Error("no block device", ErrorKind::NotFound);
}

TEST(GuestDevices, CharacterDevicesTheGuestKernelHasBecomeNodes) {
  auto planned = planGuestDevices(withDevices({{"/dev/fuse", "c", 10, 229, 0660, 1, 2},
                                               {"/dev/net/tun", "u", 10, 200, {}, {}, {}},
                                               {"/dev/pipe", "p", 0, 0, {}, {}, {}}}),
                                  noBlockDevices);
  ASSERT_EQ(planned.nodes.size(), 3u);
  EXPECT_TRUE(planned.disks.empty());
  EXPECT_EQ(planned.nodes[0].path, "/dev/fuse");
  EXPECT_EQ(planned.nodes[0].major, 10u);
  EXPECT_EQ(planned.nodes[0].minor, 229u);
  EXPECT_EQ(planned.nodes[0].fileMode, 0660u);
  EXPECT_EQ(planned.nodes[0].uid, 1u);
  EXPECT_EQ(planned.nodes[0].gid, 2u);
  EXPECT_EQ(planned.nodes[1].type, "c") << "unbuffered is a character device";
  EXPECT_EQ(planned.nodes[1].fileMode, 0666u) << "runc's default mode";
  EXPECT_EQ(planned.nodes[2].type, "p");
}

TEST(GuestDevices, ADeviceTheGuestLacksIsRefusedByName) {
  try {
    planGuestDevices(
        withDevices({{"/dev/null", "c", 1, 3, {}, {}, {}}, {"/dev/kvm", "c", 10, 232, {}, {}, {}}}),
        noBlockDevices);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_EQ(
        std::string(e.what()).rfind("device `/dev/kvm` (c 10:232) cannot be provided in the VM", 0),
        0u)
        << e.what();
  }
}

TEST(GuestDevices, BlockDevicesBecomeDisksNamedBySerial) {
  auto host = [](std::int64_t major, std::int64_t minor) {
    return "/dev/loop" + std::to_string(minor) + (major == 7 ? "" : "?");
  };
  auto planned = planGuestDevices(
      withDevices({{"/dev/xvda", "b", 7, 0, {}, {}, {}}, {"/dev/xvdb", "b", 7, 1, {}, {}, {}}},
                  {{false, "a", {}, {}, "rwm"}, {true, "b", 7, 0, "rwm"}, {true, "b", 7, 1, "r"}}),
      host);
  ASSERT_EQ(planned.disks.size(), 2u);
  EXPECT_EQ(planned.disks[0].hostPath, "/dev/loop0");
  EXPECT_EQ(planned.disks[0].serial, "runvirt-disk-0");
  EXPECT_FALSE(planned.disks[0].readonly);
  EXPECT_EQ(planned.disks[1].serial, "runvirt-disk-1");
  EXPECT_TRUE(planned.disks[1].readonly)
      << "the rules allow it read-only: the host's disk is read-only";
  EXPECT_EQ(planned.nodes[1].serial, "runvirt-disk-1");
}

TEST(GuestDevices, AMissingHostBlockDeviceIsNamed) {
  try {
    planGuestDevices(withDevices({{"/dev/xvda", "b", 7, 99, {}, {}, {}}}), noBlockDevices);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "device `/dev/xvda` (b 7:99): no block device");
  }
}

TEST(GuestDevices, HostBlockDeviceChecksTheNode) {
  EXPECT_THROW(hostBlockDevice(4095, 1048575), Error);
}

TEST(GuestDevices, APrivilegedContainerGetsTheGuestsDevicesNotTheHosts) {
  // docker run --privileged: every host device listed, one rule allowing all.
  auto planned = planGuestDevices(withDevices({{"/dev/kvm", "c", 10, 232, {}, {}, {}},
                                               {"/dev/fuse", "c", 10, 229, {}, {}, {}},
                                               {"/dev/sda", "b", 8, 0, {}, {}, {}}},
                                              {{true, "", {}, {}, "rwm"}}),
                                  noBlockDevices);
  ASSERT_EQ(planned.nodes.size(), 1u);
  EXPECT_EQ(planned.nodes[0].path, "/dev/fuse");
  EXPECT_TRUE(planned.disks.empty()) << "no host disk for a privileged container";
  EXPECT_EQ(planned.leftOut, (std::vector<std::string>{"/dev/kvm", "/dev/sda"}));
  EXPECT_FALSE(allowsAllDevices({{false, "a", {}, {}, "rwm"}, {true, "c", 10, 229, "rwm"}}));
  EXPECT_FALSE(allowsAllDevices({{true, "c", {}, {}, "rwm"}}));
}

TEST(AllowedAccess, RulesApplyInOrderOverFullAccess) {
  EXPECT_EQ(allowedAccess({}, 'c', 1, 3), "rwm");
  std::vector<oci::DeviceRule> docker = {{false, "a", {}, {}, "rwm"},
                                         {true, "c", 1, 3, "rwm"},
                                         {true, "c", {}, {}, "m"},
                                         {true, "b", 8, {}, "r"}};
  EXPECT_EQ(allowedAccess(docker, 'c', 1, 3), "rwm");
  EXPECT_EQ(allowedAccess(docker, 'c', 10, 229), "m");
  EXPECT_EQ(allowedAccess(docker, 'b', 8, 16), "r");
  EXPECT_EQ(allowedAccess(docker, 'b', 7, 0), "");
  std::vector<oci::DeviceRule> wildcard = {{false, "", -1, -1, "w"}};
  EXPECT_EQ(allowedAccess(wildcard, 'b', 7, 0), "rm");
}

}  // namespace
}  // namespace runvirt::backend

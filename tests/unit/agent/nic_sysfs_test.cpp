// guest/agent/nic_sysfs.cpp: runvirt's NICs and their hot-plug slots, in a fake sysfs tree laid
// out as the guest kernel's (virtio_net NICs are virtio devices below a PCI function).
#include "nic_sysfs.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "unit/test_util.hpp"

namespace runvirt::agent {
namespace {

// <sysfs>/class/net/<name> with its MAC and, when `device` is given, a link to that device
// directory (created) bound to `driver`.
void fakeLink(const test::TempDir& sysfs, const std::string& name, const std::string& mac,
              const std::string& device = "", const std::string& driver = "virtio_net") {
  std::string link = sysfs / ("class/net/" + name);
  test::writeFile(link + "/address", mac + "\n");
  if (device.empty()) return;
  std::string devicePath = sysfs / device;
  std::filesystem::create_directories(devicePath);
  std::filesystem::create_directories(sysfs / ("bus/virtio/drivers/" + driver));
  std::filesystem::remove(devicePath + "/driver");
  std::filesystem::create_directory_symlink(sysfs / ("bus/virtio/drivers/" + driver),
                                            devicePath + "/driver");
  std::filesystem::create_directory_symlink(devicePath, link + "/device");
}

void fakeSlot(const test::TempDir& sysfs, const std::string& slot, const std::string& address) {
  test::writeFile(sysfs / ("bus/pci/slots/" + slot + "/address"), address + "\n");
  test::writeFile(sysfs / ("bus/pci/slots/" + slot + "/power"), "1\n");
}

TEST(NicSysfs, OnlyVirtioNetLinksAreRunvirtsNics) {
  test::TempDir sysfs;
  fakeLink(sysfs, "lo", "00:00:00:00:00:00");
  fakeLink(sysfs, "eth0", "02:42:AC:11:00:02", "devices/pci0000:00/0000:00:03.0/virtio0");
  fakeLink(sysfs, "eth1", "02:42:ac:12:00:02",
           "devices/pci0000:00/0000:00:1c.0/0000:01:00.0/virtio1");
  fakeLink(sysfs, "br0", "02:42:ac:11:00:02");  // a bridge the container made: its first port's MAC
  fakeLink(sysfs, "ens5", "52:54:00:00:00:01", "devices/pci0000:00/0000:00:05.0", "e1000");
  auto nics = virtioNics(sysfs.path());
  ASSERT_EQ(nics.size(), 2u);
  EXPECT_EQ(nics[0].name, "eth0");
  EXPECT_EQ(nics[0].mac, "02:42:AC:11:00:02");
  EXPECT_EQ(nics[1].name, "eth1");
  EXPECT_EQ(nics[1].mac, "02:42:ac:12:00:02");
}

TEST(NicSysfs, NoNicsWithoutClassNet) {
  test::TempDir sysfs;
  EXPECT_TRUE(virtioNics(sysfs.path()).empty());
}

TEST(NicSysfs, ThePciFunctionNearestTheEnd) {
  EXPECT_EQ(pciAddressIn("/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/virtio1"),
            "0000:01:00.0");
  EXPECT_EQ(pciAddressIn("/sys/devices/pci0000:00/0000:00:03.0/virtio0"), "0000:00:03.0");
  EXPECT_EQ(pciAddressIn("/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0"), "0000:01:00.0");
  EXPECT_EQ(pciAddressIn("/sys/devices/pci10000:e0/10000:e1:1f.7/virtio3"), "10000:e1:1f.7");
  for (const char* none :
       {"/sys/devices/virtual/net/lo", "/sys/devices/pci0000:00", "", "/",
        "/sys/devices/0000:01:00.8/virtio1", "/sys/devices/0000:01:0.0", "/x/0000:01:00.0y"}) {
    EXPECT_FALSE(pciAddressIn(none)) << none;
  }
}

TEST(NicSysfs, TheSlotWhoseAddressIsTheNicsBusAndDevice) {
  test::TempDir sysfs;
  fakeLink(sysfs, "eth1", "02:42:ac:12:00:02",
           "devices/pci0000:00/0000:00:1c.0/0000:01:00.0/virtio1");
  fakeLink(sysfs, "eth2", "02:42:ac:13:00:02",
           "devices/pci0000:00/0000:00:1c.1/0000:02:00.0/virtio2");
  fakeSlot(sysfs, "0", "0000:00:1c");  // the root port's own slot: not the NIC's
  fakeSlot(sysfs, "1", "0000:01:00");
  fakeSlot(sysfs, "2", "0000:02:00");
  EXPECT_EQ(hotplugSlotOfNic(sysfs.path(), "eth1"), sysfs / "bus/pci/slots/1");
  EXPECT_EQ(hotplugSlotOfNic(sysfs.path(), "eth2"), sysfs / "bus/pci/slots/2");
}

TEST(NicSysfs, NoSlotOnTheRootBusOrForAVirtualLink) {
  test::TempDir sysfs;
  fakeLink(sysfs, "eth0", "02:42:ac:11:00:02", "devices/pci0000:00/0000:00:03.0/virtio0");
  fakeLink(sysfs, "br0", "02:42:ac:11:00:02");
  EXPECT_FALSE(hotplugSlotOfNic(sysfs.path(), "eth0"));  // no slots at all
  fakeSlot(sysfs, "1", "0000:01:00");
  EXPECT_FALSE(hotplugSlotOfNic(sysfs.path(), "eth0"));
  EXPECT_FALSE(hotplugSlotOfNic(sysfs.path(), "br0"));
  EXPECT_FALSE(hotplugSlotOfNic(sysfs.path(), "gone"));
}

TEST(NicSysfs, PowerOffWritesZero) {
  test::TempDir sysfs;
  fakeSlot(sysfs, "1", "0000:01:00");
  powerOffSlot(sysfs / "bus/pci/slots/1");
  EXPECT_EQ(test::readFile(sysfs / "bus/pci/slots/1/power"), "0");
  EXPECT_TRUE(test::contains(test::errorOf([&] { powerOffSlot(sysfs / "bus/pci/slots/9"); }),
                             "slots/9/power"));
}

}  // namespace
}  // namespace runvirt::agent

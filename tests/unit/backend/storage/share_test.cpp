// libvirt-backend/storage/share.cpp: guestMounts, the agent's view of the spec's mounts (pure).
// prepareShare/teardownShare mount on the host: covered by the integration tests.
#include "storage/share.hpp"

#include <gtest/gtest.h>

namespace runvirt::backend {
namespace {

TEST(GuestMounts, BindsPointIntoTheShareByIndex) {
  oci::Spec spec;
  spec.mounts = {
      {"/proc", "proc", "proc", {}},
      {"/etc/resolv.conf",
       "bind",
       "/var/lib/docker/containers/x/resolv.conf",
       {"rbind", "rprivate"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755"}},
      {"/hosttmp", "none", "/tmp", {"rbind", "ro"}},
      {"/relative", "", "data", {"bind"}},
  };
  auto mounts = guestMounts(spec);
  ASSERT_EQ(mounts.size(), 5u);
  EXPECT_EQ(mounts[0].type, "proc");
  EXPECT_EQ(mounts[0].source, "proc");
  EXPECT_EQ(mounts[1].type, "bind");
  EXPECT_EQ(mounts[1].source, "volumes/mounts/1");
  EXPECT_EQ(mounts[1].options, (std::vector<std::string>{"rbind", "rprivate"}));
  EXPECT_EQ(mounts[2].source, "tmpfs");
  EXPECT_EQ(mounts[2].options, (std::vector<std::string>{"nosuid", "mode=755"}));
  EXPECT_EQ(mounts[3].type, "bind");
  EXPECT_EQ(mounts[3].source, "volumes/mounts/3");
  EXPECT_EQ(mounts[3].destination, "/hosttmp");
  EXPECT_EQ(mounts[4].source, "volumes/mounts/4");
}

TEST(GuestMounts, NoMounts) { EXPECT_TRUE(guestMounts(oci::Spec{}).empty()); }

TEST(VmPaths, FilesOfAVm) {
  VmPaths paths{"/run/runvirt-vms/runvirt-1"};
  EXPECT_EQ(paths.shareDir(), "/run/runvirt-vms/runvirt-1/share");
  EXPECT_EQ(paths.controlSocket(), "/run/runvirt-vms/runvirt-1/control.sock");
  EXPECT_EQ(paths.consoleLog(), "/run/runvirt-vms/runvirt-1/console.log");
}

}  // namespace
}  // namespace runvirt::backend

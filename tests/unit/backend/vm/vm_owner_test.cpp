// libvirt-backend/vm/vm_owner.cpp: a VM's owner in the domain metadata and in owner.json, and
// whether the owner still runs.
#include "vm/vm_owner.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/files.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

const VmOwner kOwner{VmOwner::Kind::Container, "web", "/run/runvirt", 4242, 987654321};

TEST(VmOwner, MetadataElementNamesEverything) {
  EXPECT_EQ(ownerMetadataXml(kOwner),
            "<runvirt:owner xmlns:runvirt='https://runvirt.dev/xmlns/container/1' kind='container' "
            "container='web' "
            "root='/run/runvirt' pid='4242' start-time='987654321'/>\n");
}

TEST(VmOwner, MetadataRoundTrips) {
  EXPECT_EQ(parseOwnerMetadata(ownerMetadataXml(kOwner)), kOwner);
  VmOwner odd{VmOwner::Kind::Teardown, "a&b", "/tmp/x'y\"z<", 1, 2};
  EXPECT_EQ(parseOwnerMetadata(ownerMetadataXml(odd)), odd);
}

TEST(VmOwner, MetadataAsLibvirtGivesItBack) {
  // libvirt re-serializes the element with double quotes and its own spacing.
  std::string fromLibvirt =
      "<runvirt:owner xmlns:runvirt=\"https://runvirt.dev/xmlns/container/1\" kind=\"container\" "
      "container=\"web\" root=\"/run/runvirt\" pid=\"4242\" start-time=\"987654321\"/>";
  EXPECT_EQ(parseOwnerMetadata(fromLibvirt), kOwner);
}

TEST(VmOwner, MetadataThatIsNotAnOwner) {
  EXPECT_EQ(parseOwnerMetadata(""), std::nullopt);
  EXPECT_EQ(parseOwnerMetadata("<runvirt:container id='web' root='/run/runvirt'/>"), std::nullopt);
  EXPECT_EQ(parseOwnerMetadata(
                "<runvirt:owner kind='pilot' container='a' root='/r' pid='1' start-time='2'/>"),
            std::nullopt);
  EXPECT_EQ(
      parseOwnerMetadata(
          "<runvirt:owner kind='container' container='a' root='/r' pid='-1' start-time='2'/>"),
      std::nullopt);
}

TEST(VmOwner, FileRoundTripsAndAMissingOneIsNone) {
  test::TempDir dir;
  EXPECT_EQ(readOwnerFile(dir.path()), std::nullopt);
  writeOwnerFile(dir.path(), kOwner);
  EXPECT_EQ(readOwnerFile(dir.path()), kOwner);
  test::writeFile(dir / "owner.json", "{\"kind\":\"container\"}");
  EXPECT_EQ(readOwnerFile(dir.path()), std::nullopt);
}

TEST(VmOwner, AliveOnlyWithTheSameStartTime) {
  VmOwner self = selfAsOwner(VmOwner::Kind::Container, "web", "/run/runvirt");
  EXPECT_EQ(self.pid, getpid());
  EXPECT_TRUE(ownerAlive(self));
  VmOwner reused = self;
  reused.startTime += 1;
  EXPECT_FALSE(ownerAlive(reused));
  VmOwner dead = self;
  dead.pid = test::deadPid();
  EXPECT_FALSE(ownerAlive(dead));
  EXPECT_FALSE(ownerAlive(VmOwner{}));
}

}  // namespace
}  // namespace runvirt::backend

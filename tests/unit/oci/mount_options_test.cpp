// oci/src/mount_options.cpp: OCI mount options -> mount(2) flags, propagation and data.
#include "runvirt/oci/mount_options.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>

namespace runvirt::oci {
namespace {

// MS_* are ints; the parsed flags are unsigned long.
constexpr unsigned long bits(unsigned long value) { return value; }

TEST(MountOptions, FlagsAreSet) {
  auto o = parseMountOptions({"nosuid", "noexec", "nodev", "ro"});
  EXPECT_EQ(o.flags, bits(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  EXPECT_TRUE(o.readonly());
  EXPECT_FALSE(o.bind());
  EXPECT_EQ(o.propagation, 0u);
  EXPECT_EQ(o.data, "");
}

TEST(MountOptions, LaterClearFlagsWin) {
  auto o = parseMountOptions({"ro", "nosuid", "rw", "suid", "noatime", "atime"});
  EXPECT_EQ(o.flags, 0u);
  EXPECT_FALSE(o.readonly());
  EXPECT_EQ(parseMountOptions({"rw", "ro"}).flags, bits(MS_RDONLY));
}

TEST(MountOptions, BindAndRecursiveBind) {
  EXPECT_EQ(parseMountOptions({"bind"}).flags, bits(MS_BIND));
  auto o = parseMountOptions({"rbind", "ro"});
  EXPECT_EQ(o.flags, bits(MS_BIND | MS_REC | MS_RDONLY));
  EXPECT_TRUE(o.bind());
}

TEST(MountOptions, PropagationIsSeparateFromFlags) {
  auto o = parseMountOptions({"rbind", "rprivate"});
  EXPECT_EQ(o.propagation, bits(MS_PRIVATE | MS_REC));
  EXPECT_EQ(o.flags, bits(MS_BIND | MS_REC));
  EXPECT_EQ(parseMountOptions({"shared"}).propagation, bits(MS_SHARED));
  EXPECT_EQ(parseMountOptions({"rslave"}).propagation, bits(MS_SLAVE | MS_REC));
  EXPECT_EQ(parseMountOptions({"private", "runbindable"}).propagation,
            bits(MS_UNBINDABLE | MS_REC));
}

TEST(MountOptions, UnknownWordsBecomeFilesystemData) {
  auto o = parseMountOptions({"nosuid", "mode=755", "strictatime", "size=65536k", "newinstance"});
  EXPECT_EQ(o.flags, bits(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(o.data, "mode=755,size=65536k,newinstance");
}

TEST(MountOptions, DefaultsAndEmptyChangeNothing) {
  EXPECT_EQ(parseMountOptions({}).flags, 0u);
  auto o = parseMountOptions({"defaults"});
  EXPECT_EQ(o.flags, 0u);
  EXPECT_EQ(o.data, "");
}

TEST(MountOptions, BindMountDetection) {
  EXPECT_TRUE(isBindMount("bind", {}));
  EXPECT_TRUE(isBindMount("none", {"rbind", "ro"}));
  EXPECT_TRUE(isBindMount("", {"bind"}));
  EXPECT_FALSE(isBindMount("tmpfs", {"nosuid", "mode=755"}));
  EXPECT_FALSE(isBindMount("proc", {}));
}

TEST(MountOptions, EveryKnownOptionIsAFlagOrAPropagation) {
  std::vector<std::string> known = knownMountOptions();
  EXPECT_TRUE(std::is_sorted(known.begin(), known.end()));
  EXPECT_EQ(known.size(), 39u);
  for (const auto& name : known)
    EXPECT_EQ(parseMountOptions({name}).data, "") << name << " went to the filesystem";
  EXPECT_EQ(parseMountOptions({"mode=755"}).data, "mode=755");
}

}  // namespace
}  // namespace runvirt::oci

// libvirt-backend/vm/guest_image.cpp: kernel banner, PVH note, newc cpio, module vermagic.
#include "vm/guest_image.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;

// A minimal ELF64 file with one PT_NOTE segment holding one note.
std::string elfWithNote(const std::string& owner, std::uint32_t type,
                        const std::string& tail = "") {
  std::string note;
  Elf64_Nhdr nh{};
  nh.n_namesz = static_cast<Elf64_Word>(owner.size() + 1);
  nh.n_descsz = 4;
  nh.n_type = type;
  note.append(reinterpret_cast<const char*>(&nh), sizeof nh);
  std::string name = owner + '\0';
  name.resize((name.size() + 3) & ~std::size_t{3}, '\0');
  note += name + std::string("\x00\x00\x10\x00", 4);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_NOTE;
  ph.p_offset = sizeof eh + sizeof ph;
  ph.p_filesz = note.size();
  std::string out(reinterpret_cast<const char*>(&eh), sizeof eh);
  out.append(reinterpret_cast<const char*>(&ph), sizeof ph);
  return out + note + tail;
}

std::string hex8(unsigned v) {
  char buf[9];
  snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

// One newc member (what `cpio -o -H newc` writes).
std::string newcMember(const std::string& name, unsigned mode, const std::string& data) {
  std::string h = "070701" + hex8(1) + hex8(mode) + hex8(0) + hex8(0) + hex8(1) + hex8(0) +
                  hex8(data.size()) + hex8(0) + hex8(0) + hex8(0) + hex8(0) +
                  hex8(name.size() + 1) + hex8(0);
  std::string out = h + name + '\0';
  out.resize((out.size() + 3) & ~std::size_t{3}, '\0');
  out += data;
  out.resize((out.size() + 3) & ~std::size_t{3}, '\0');
  return out;
}

std::string newcArchive(
    const std::vector<std::tuple<std::string, unsigned, std::string>>& members) {
  std::string out;
  for (const auto& [name, mode, data] : members) out += newcMember(name, mode, data);
  return out + newcMember("TRAILER!!!", 0, "");
}

std::string module(const std::string& release) {
  return std::string(
             "\x7f"
             "ELF junk\0",
             9) +
         "vermagic=" + release + " SMP preempt mod_unload modversions " + std::string("\0more", 5);
}

TEST(GuestImage, KernelReleaseFromTheBannerNotAFormatString) {
  std::string image = std::string("xx\0Linux version %s (%s)\0", 26) +
                      "Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP";
  EXPECT_EQ(kernelReleaseFromImage(image), "6.1.0-56-cloud-amd64");
  EXPECT_EQ(kernelReleaseFromImage("no banner here"), "");
  EXPECT_EQ(kernelReleaseFromImage("Linux version "), "");
}

TEST(GuestImage, PvhNoteIsTheXenNoteOfType18) {
  EXPECT_TRUE(hasPvhEntry(elfWithNote("Xen", 18)));
  EXPECT_FALSE(hasPvhEntry(elfWithNote("Xen", 17)));
  EXPECT_FALSE(hasPvhEntry(elfWithNote("GNU", 18)));
  EXPECT_FALSE(hasPvhEntry("MZ not an elf file at all, a bzImage"));
  EXPECT_FALSE(hasPvhEntry(elfWithNote("Xen", 18).substr(0, 70)));  // truncated
}

TEST(GuestImage, NewcCpioMembers) {
  auto members = parseNewcCpio(newcArchive({{"./init", 0100755, "AGENT"},
                                            {"./lib/modules", 040755, ""},
                                            {"./lib/modules/virtio.ko", 0100644, "abc"}}));
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].name, "init");
  EXPECT_EQ(members[0].mode, 0100755u);
  EXPECT_EQ(members[0].data, "AGENT");
  EXPECT_EQ(members[2].name, "lib/modules/virtio.ko");
  EXPECT_EQ(members[2].data, "abc");
}

TEST(GuestImage, CompressedOrTruncatedInitrdIsAnError) {
  EXPECT_TRUE(contains(errorOf([] { parseNewcCpio(std::string("\x1f\x8b\x08\x00", 4)); }),
                       "initrd: no newc cpio header at offset 0"));
  std::string archive = newcArchive({{"init", 0100755, "AGENT-BINARY"}});
  EXPECT_TRUE(
      contains(errorOf([&] { parseNewcCpio(archive.substr(0, 120)); }), "truncated cpio member"));
  EXPECT_TRUE(contains(errorOf([&] { parseNewcCpio(archive.substr(0, archive.size() - 120)); }),
                       "no newc cpio header"));
}

TEST(GuestImage, ModuleRelease) {
  EXPECT_EQ(moduleRelease(module("6.1.0-56-cloud-amd64")), "6.1.0-56-cloud-amd64");
  EXPECT_EQ(moduleRelease("no magic"), "");
}

TEST(GuestImage, InspectReadsTheThreeFiles) {
  test::TempDir dir;
  test::writeFile(dir / "vmlinux", elfWithNote("Xen", 18, "Linux version 6.1.0-9-cloud-amd64 (x)"));
  test::writeFile(dir / "initrd.img",
                  newcArchive({{"./init", 0100755, "A"},
                               {"./lib/modules/virtio.ko", 0100644, module("6.1.0-9-cloud-amd64")},
                               {"./lib/modules/fuse.ko", 0100644, module("6.1.0-9-cloud-amd64")}}));
  test::writeFile(dir / "kernel-version", "6.1.0-9-cloud-amd64\n");
  chmod((dir / "vmlinux").c_str(), 0644);
  chmod((dir / "initrd.img").c_str(), 0600);
  GuestImageFacts f = inspectGuestImage(dir / "vmlinux", dir / "initrd.img");
  EXPECT_EQ(f.kernelError, "");
  EXPECT_EQ(f.kernelRelease, "6.1.0-9-cloud-amd64");
  EXPECT_TRUE(f.kernelPvh);
  EXPECT_TRUE(f.kernelWorldReadable);
  EXPECT_EQ(f.initrdError, "");
  EXPECT_TRUE(f.initrdHasAgent);
  EXPECT_EQ(f.modules, (std::vector<std::string>{"virtio.ko", "fuse.ko"}));
  EXPECT_EQ(f.moduleReleases, (std::vector<std::string>{"6.1.0-9-cloud-amd64"}));
  EXPECT_FALSE(f.initrdWorldReadable);
  EXPECT_EQ(f.recordedRelease, "6.1.0-9-cloud-amd64");
}

TEST(GuestImage, InspectReportsMissingFiles) {
  test::TempDir dir;
  GuestImageFacts f = inspectGuestImage(dir / "vmlinux", dir / "initrd.img");
  EXPECT_TRUE(contains(f.kernelError, dir / "vmlinux"));
  EXPECT_TRUE(contains(f.initrdError, dir / "initrd.img"));
  EXPECT_FALSE(f.recordedRelease.has_value());
}

}  // namespace
}  // namespace runvirt::backend

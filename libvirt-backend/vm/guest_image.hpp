// Reading the guest image build-guest-image.sh writes (vmlinux, initrd.img, kernel-version), so
// `runvirt check` can tell whether the kernel and the initrd belong together. Pure functions on
// the files' bytes (unit-tested) and one function that reads them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runvirt::backend {

// The release in the kernel's banner ("Linux version 6.1.0-56-cloud-amd64 (...)"), or "" when
// the image holds no banner.
std::string kernelReleaseFromImage(std::string_view image);

// True when `image` is an ELF file with the Xen PHYS32_ENTRY note (type 18) QEMU boots it by
// (PVH). False for anything else, including a bzImage.
bool hasPvhEntry(std::string_view image);

// One member of a newc ("070701") cpio archive; `data` points into the archive.
struct CpioMember {
  std::string name;  // without a leading "./"
  unsigned mode = 0;
  std::string_view data;
};

// Throws Error naming the offset when the archive is not an uncompressed newc cpio.
std::vector<CpioMember> parseNewcCpio(std::string_view archive);

// The release a kernel module was built for (the first word of its "vermagic=" string), or "".
std::string moduleRelease(std::string_view module);

// What the three files say, with what could not be read.
struct GuestImageFacts {
  std::string kernelPath;
  std::string initrdPath;
  std::string kernelError;  // non-empty: the kernel could not be read
  std::string kernelRelease;
  bool kernelPvh = false;
  bool kernelWorldReadable = false;
  // virtio-fs built into the kernel (the runvirt guest kernel): its initrd needs no modules.
  bool kernelHasBuiltinVirtiofs = false;
  std::string initrdError;                  // non-empty: the initrd could not be read or parsed
  bool initrdHasAgent = false;              // an executable /init
  std::vector<std::string> modules;         // .ko file names in the initrd
  std::vector<std::string> moduleReleases;  // the distinct vermagic releases of those modules
  bool initrdWorldReadable = false;
  std::optional<std::string> recordedRelease;  // kernel-version next to the initrd, if present
};

GuestImageFacts inspectGuestImage(const std::string& kernelPath, const std::string& initrdPath);

}  // namespace runvirt::backend

#include "vm/guest_image.hpp"

#include <elf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "common/files.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

namespace {

constexpr std::string_view kBanner = "Linux version ";
constexpr std::string_view kNewcMagic = "070701";
constexpr std::size_t kNewcHeaderSize = 110;  // magic + 13 fields of 8 hex digits
constexpr std::uint32_t kXenPhys32EntryNote = 18;

template <class T>
bool readAt(std::string_view bytes, std::size_t offset, T& out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(&out, bytes.data() + offset, sizeof(T));
  return true;
}

std::size_t align4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

unsigned hexField(std::string_view header, int index, std::size_t offset) {
  std::string_view field = header.substr(6 + static_cast<std::size_t>(index) * 8, 8);
  unsigned value = 0;
  for (char c : field) {
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0) throw Error("initrd: bad cpio header at offset " + std::to_string(offset));
    value = value * 16 + static_cast<unsigned>(digit);
  }
  return value;
}

bool worldReadable(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH);
}

std::string dirName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

std::string baseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string kernelReleaseFromImage(std::string_view image) {
  for (std::size_t at = image.find(kBanner); at != std::string_view::npos;
       at = image.find(kBanner, at + 1)) {
    std::size_t start = at + kBanner.size();
    // The banner itself, not a format string such as "Linux version %s".
    if (start >= image.size() || image[start] < '0' || image[start] > '9') continue;
    std::size_t end = start;
    while (end < image.size() && image[end] > ' ' && image[end] < 0x7f) ++end;
    return std::string(image.substr(start, end - start));
  }
  return "";
}

bool hasPvhEntry(std::string_view image) {
  Elf64_Ehdr eh;
  if (!readAt(image, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return false;
  }
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!readAt(image, eh.e_phoff + static_cast<std::size_t>(i) * eh.e_phentsize, ph)) return false;
    if (ph.p_type != PT_NOTE) continue;
    std::size_t at = ph.p_offset, end = ph.p_offset + ph.p_filesz;
    if (end > image.size()) return false;
    while (at + sizeof(Elf64_Nhdr) <= end) {
      Elf64_Nhdr nh;
      readAt(image, at, nh);
      std::size_t name = at + sizeof nh;
      std::size_t desc = name + align4(nh.n_namesz);
      if (nh.n_namesz == 4 && name + 4 <= end &&
          image.substr(name, 4) == std::string_view("Xen\0", 4) &&
          nh.n_type == kXenPhys32EntryNote) {
        return true;
      }
      at = desc + align4(nh.n_descsz);
    }
  }
  return false;
}

std::vector<CpioMember> parseNewcCpio(std::string_view archive) {
  std::vector<CpioMember> members;
  std::size_t at = 0;
  for (;;) {
    if (archive.size() - at < kNewcHeaderSize || archive.substr(at, 6) != kNewcMagic) {
      throw Error("initrd: no newc cpio header at offset " + std::to_string(at) +
                  " (compressed, or not written by build-guest-image)");
    }
    std::string_view header = archive.substr(at, kNewcHeaderSize);
    unsigned mode = hexField(header, 1, at);
    unsigned fileSize = hexField(header, 6, at);
    unsigned nameSize = hexField(header, 11, at);
    std::size_t nameAt = at + kNewcHeaderSize;
    std::size_t dataAt = align4(nameAt + nameSize);
    if (nameSize == 0 || dataAt > archive.size() || archive.size() - dataAt < fileSize) {
      throw Error("initrd: truncated cpio member at offset " + std::to_string(at));
    }
    std::string name(archive.substr(nameAt, nameSize - 1));  // nameSize counts the NUL
    if (name == "TRAILER!!!") break;
    if (name.rfind("./", 0) == 0) name.erase(0, 2);
    members.push_back({name, mode, archive.substr(dataAt, fileSize)});
    at = align4(dataAt + fileSize);
  }
  return members;
}

std::string moduleRelease(std::string_view module) {
  constexpr std::string_view key = "vermagic=";
  std::size_t at = module.find(key);
  if (at == std::string_view::npos) return "";
  std::size_t start = at + key.size();
  std::size_t end = start;
  while (end < module.size() && module[end] > ' ' && module[end] < 0x7f) ++end;
  return std::string(module.substr(start, end - start));
}

GuestImageFacts inspectGuestImage(const std::string& kernelPath, const std::string& initrdPath) {
  GuestImageFacts f;
  f.kernelPath = kernelPath;
  f.initrdPath = initrdPath;
  try {
    std::string image = readFile(kernelPath);
    f.kernelRelease = kernelReleaseFromImage(image);
    f.kernelPvh = hasPvhEntry(image);
    f.kernelWorldReadable = worldReadable(kernelPath);
    // The file system type virtio-fs registers; a modular kernel has it only in virtiofs.ko.
    f.kernelHasBuiltinVirtiofs = image.find(std::string("virtiofs") + '\0') != std::string::npos;
  } catch (const Error& e) {
    f.kernelError = e.message();
  }
  try {
    std::string archive = readFile(initrdPath);
    f.initrdWorldReadable = worldReadable(initrdPath);
    for (const CpioMember& m : parseNewcCpio(archive)) {
      if (m.name == "init" && S_ISREG(m.mode) && (m.mode & 0111)) f.initrdHasAgent = true;
      if (m.name.size() > 3 && m.name.compare(m.name.size() - 3, 3, ".ko") == 0) {
        f.modules.push_back(baseName(m.name));
        std::string release = moduleRelease(m.data);
        if (std::find(f.moduleReleases.begin(), f.moduleReleases.end(), release) ==
            f.moduleReleases.end()) {
          f.moduleReleases.push_back(release);
        }
      }
    }
  } catch (const Error& e) {
    f.initrdError = e.message();
  }
  std::string recorded = dirName(initrdPath) + "/kernel-version";
  if (pathExists(recorded)) {
    try {
      std::string text = readFile(recorded);
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      f.recordedRelease = text;
    } catch (const Error&) {
      f.recordedRelease = "";
    }
  }
  return f;
}

}  // namespace runvirt::backend

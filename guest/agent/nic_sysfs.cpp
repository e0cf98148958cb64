#include "nic_sysfs.hpp"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "file_util.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"

namespace runvirt::agent {

namespace {

// The entries of a directory, without "." and ".."; none when it does not exist.
std::vector<std::string> entriesOf(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (!dir) {
    if (errno == ENOENT) return names;
    throwErrno("open " + quote(path));
  }
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

// The last component of a symbolic link's target; empty when `path` is no link.
std::string linkTargetName(const std::string& path) {
  char target[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
  if (n <= 0) return "";
  std::string text(target, static_cast<std::size_t>(n));
  return text.substr(text.find_last_of('/') + 1);
}

bool isHex(std::string_view text, std::size_t minSize, std::size_t maxSize) {
  return text.size() >= minSize && text.size() <= maxSize &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// "0000:01:00.0": domain (4 hex digits, more on some hosts), bus, device, function.
bool isPciAddress(std::string_view name) {
  auto first = name.find(':');
  auto second = name.find(':', first == std::string_view::npos ? first : first + 1);
  auto dot = name.rfind('.');
  if (first == std::string_view::npos || second == std::string_view::npos ||
      dot == std::string_view::npos || dot < second) {
    return false;
  }
  std::string_view function = name.substr(dot + 1);
  return isHex(name.substr(0, first), 4, 8) &&
         isHex(name.substr(first + 1, second - first - 1), 2, 2) &&
         isHex(name.substr(second + 1, dot - second - 1), 2, 2) && function.size() == 1 &&
         function[0] >= '0' && function[0] <= '7';
}

}  // namespace

std::vector<GuestNic> virtioNics(const std::string& sysfs) {
  std::vector<GuestNic> nics;
  std::string net = sysfs + "/class/net/";
  for (const auto& name : entriesOf(net)) {
    if (linkTargetName(net + name + "/device/driver") != "virtio_net") continue;
    auto mac = readFileIfExists(net + name + "/address");
    if (mac) nics.push_back({name, trimRight(*mac)});
  }
  return nics;
}

std::optional<std::string> pciAddressIn(std::string_view devicePath) {
  while (!devicePath.empty()) {
    auto slash = devicePath.find_last_of('/');
    std::string_view last =
        slash == std::string_view::npos ? devicePath : devicePath.substr(slash + 1);
    if (isPciAddress(last)) return std::string(last);
    if (slash == std::string_view::npos) break;
    devicePath = devicePath.substr(0, slash);
  }
  return std::nullopt;
}

std::optional<std::string> hotplugSlotOfNic(const std::string& sysfs, const std::string& nic) {
  std::string device = sysfs + "/class/net/" + nic + "/device";
  char resolved[PATH_MAX];
  if (!::realpath(device.c_str(), resolved)) return std::nullopt;  // a virtual link: no device
  auto pci = pciAddressIn(resolved);
  if (!pci) return std::nullopt;
  std::string slotAddress =
      pci->substr(0, pci->rfind('.'));  // a slot holds every function of a device
  std::string slots = sysfs + "/bus/pci/slots/";
  for (const auto& slot : entriesOf(slots)) {
    auto address = readFileIfExists(slots + slot + "/address");
    if (address && trimRight(*address) == slotAddress) return slots + slot;
  }
  return std::nullopt;
}

void powerOffSlot(const std::string& slot) { writeFile(slot + "/power", "0"); }

}  // namespace runvirt::agent

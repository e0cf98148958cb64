#include "vm/guest_devices.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "common/files.hpp"
#include "common/strings.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"

namespace runvirt::backend {

namespace {

struct CharDevice {
  std::int64_t major, minor;
};

// The character devices the guest kernel has (guest/kernel/runvirt-guest.config), with the
// same numbers as on any Linux host.
constexpr CharDevice kGuestCharDevices[] = {
    {1, 3},    {1, 5}, {1, 7}, {1, 8}, {1, 9},  // null zero full random urandom
    {5, 0},                                     // tty
    {10, 229},                                  // fuse
    {10, 200},                                  // net/tun
};

bool guestHasCharDevice(std::int64_t major, std::int64_t minor) {
  return std::any_of(std::begin(kGuestCharDevices), std::end(kGuestCharDevices),
                     [&](const CharDevice& d) { return d.major == major && d.minor == minor; });
}

std::string describe(const oci::Device& d) {
  std::string numbers =
      d.type == "p" ? "" : " " + std::to_string(d.major) + ":" + std::to_string(d.minor);
  return "device " + quote(d.path) + " (" + d.type + numbers + ")";
}

bool matches(const oci::DeviceRule& rule, char type, std::int64_t major, std::int64_t minor) {
  if (!rule.type.empty() && rule.type != "a" && rule.type[0] != type) return false;
  if (rule.major && *rule.major != -1 && *rule.major != major) return false;
  return !(rule.minor && *rule.minor != -1 && *rule.minor != minor);
}

agent::Device node(const oci::Device& d) {
  agent::Device out;
  out.path = d.path;
  out.type = d.type == "u" ? "c" : d.type;
  out.major = static_cast<std::uint32_t>(d.major);
  out.minor = static_cast<std::uint32_t>(d.minor);
  out.fileMode = d.fileMode.value_or(0666) & 07777;
  out.uid = d.uid.value_or(0);
  out.gid = d.gid.value_or(0);
  return out;
}

}  // namespace

std::string allowedAccess(const std::vector<oci::DeviceRule>& rules, char type, std::int64_t major,
                          std::int64_t minor) {
  std::string access = "rwm";
  for (const auto& rule : rules) {
    if (!matches(rule, type, major, minor)) continue;
    std::string letters = rule.access.empty() ? "rwm" : rule.access;
    for (char c : std::string("rwm")) {
      if (letters.find(c) == std::string::npos) continue;
      bool has = access.find(c) != std::string::npos;
      if (rule.allow && !has) access += c;
      if (!rule.allow && has) access.erase(access.find(c), 1);
    }
  }
  std::string ordered;
  for (char c : std::string("rwm")) {
    if (access.find(c) != std::string::npos) ordered += c;
  }
  return ordered;
}

bool allowsAllDevices(const std::vector<oci::DeviceRule>& rules) {
  return std::any_of(rules.begin(), rules.end(), [](const oci::DeviceRule& r) {
    bool anyType = r.type.empty() || r.type == "a";
    bool anyNumber = (!r.major || *r.major == -1) && (!r.minor || *r.minor == -1);
    return r.allow && anyType && anyNumber && (r.access.empty() || r.access == "rwm");
  });
}

GuestDevices planGuestDevices(const oci::Spec& spec, const HostBlockDevice& findHostBlock) {
  GuestDevices out;
  if (!spec.linux) return out;
  const std::vector<oci::DeviceRule> none;
  const auto& rules = spec.linux->resources ? spec.linux->resources->devices : none;
  bool privileged = allowsAllDevices(rules);
  for (const auto& d : spec.linux->devices) {
    agent::Device guest = node(d);
    bool provided = d.type == "p" || (d.type != "b" && guestHasCharDevice(d.major, d.minor));
    if (privileged && !provided) {
      out.leftOut.push_back(d.path);
      continue;
    }
    if (d.type == "b") {
      std::string host = withContext(describe(d), [&] { return findHostBlock(d.major, d.minor); });
      guest.serial = "runvirt-disk-" + std::to_string(out.disks.size());
      // The cgroup rule is enforced where the guest cannot undo it: QEMU's view of the disk.
      bool writable = allowedAccess(rules, 'b', d.major, d.minor).find('w') != std::string::npos;
      out.disks.push_back({d.major, d.minor, host, guest.serial, !writable});
    } else if (!provided) {
      throw Error(
          describe(d) +
              " cannot be provided in the VM: its guest kernel has null, zero, full, random, "
              "urandom, tty, fuse and net/tun, and host block devices",
          ErrorKind::InvalidArgument);
    }
    out.nodes.push_back(std::move(guest));
  }
  return out;
}

void makeDiskNodes(const std::string& dir, std::vector<BlockDisk>& disks,
                   const std::string& qemuUser) {
  if (disks.empty()) return;
  struct passwd* user = ::getpwnam(qemuUser.c_str());
  if (!user) throw Error("no user " + quote(qemuUser) + " for QEMU", ErrorKind::NotFound);
  makeDirs(dir, 0711);
  for (std::size_t i = 0; i < disks.size(); ++i) {
    auto& disk = disks[i];
    std::string node = dir + "/disk-" + std::to_string(i);
    mode_t mode = disk.readonly ? 0400 : 0600;
    // PRIVILEGED: a device node (CAP_MKNOD), in a directory only root writes.
    if (::mknod(node.c_str(), S_IFBLK | mode, ::makedev(disk.major, disk.minor)) != 0)
      throwErrno("mknod " + node);
    if (::chown(node.c_str(), user->pw_uid, user->pw_gid) != 0) throwErrno("chown " + node);
    disk.hostPath = node;
  }
}

std::string hostBlockDevice(std::int64_t major, std::int64_t minor) {
  std::string numbers = std::to_string(major) + ":" + std::to_string(minor);
  auto uevent = readFileIfExists("/sys/dev/block/" + numbers + "/uevent");
  if (!uevent) throw Error("no block device " + numbers + " on the host", ErrorKind::NotFound);
  std::string name;
  for (const auto& line : split(*uevent, '\n', EmptyFields::Drop)) {
    if (line.rfind("DEVNAME=", 0) == 0) name = line.substr(8);
  }
  std::string path = "/dev/" + name;
  struct stat st {};
  if (name.empty() || name.find("..") != std::string::npos || ::stat(path.c_str(), &st) != 0 ||
      !S_ISBLK(st.st_mode) || ::major(st.st_rdev) != major || ::minor(st.st_rdev) != minor) {
    throw Error("block device " + numbers + " has no node in the host's /dev", ErrorKind::NotFound);
  }
  return path;
}

}  // namespace runvirt::backend

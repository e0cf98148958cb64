// What sysfs tells about the guest's NICs: which links are runvirt's (virtio_net), their MACs,
// and the PCI hot-plug slot a NIC sits in. `sysfs` is "/sys" in the guest and a fake tree in
// tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runvirt::agent {

inline constexpr const char* kSysfs = "/sys";

struct GuestNic {
  std::string name;
  std::string mac;  // as sysfs spells it: "02:42:ac:11:00:02"
};

// The links under <sysfs>/class/net whose device is bound to virtio_net: the NICs runvirt gave
// the VM. Loopback, and tunnels, bridges or veths the container made, have no such device.
std::vector<GuestNic> virtioNics(const std::string& sysfs);

// "0000:01:00.0": the PCI function nearest the end of a resolved sysfs device path (a virtio
// NIC's device is the virtio device below its PCI function). Pure.
std::optional<std::string> pciAddressIn(std::string_view devicePath);

// <sysfs>/bus/pci/slots/<N> whose address ("0000:01:00") names the bus and device of the NIC's
// PCI function; std::nullopt for a NIC on a bus without hot-plug slots (the NICs present at
// boot, on the root bus) or without a PCI device.
std::optional<std::string> hotplugSlotOfNic(const std::string& sysfs, const std::string& nic);

// Writes "0" to the slot's power file: the kernel removes the device at once instead of after
// the hot-plug driver's 5 s wait for an attention button press to be cancelled.
void powerOffSlot(const std::string& slot);

}  // namespace runvirt::agent

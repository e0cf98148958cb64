// buildDomainXml: the libvirt domain of one container VM (docs/libvirt-recipe.md §2-§16 say why
// each element is there). Pure: same VmConfig, same bytes.
#include "runvirt/agent/protocol.hpp"
#include "vm/vm_config.hpp"
#include "vm/vm_owner.hpp"
#include "vm/xml_writer.hpp"

namespace runvirt::backend {

namespace {

void writeOs(XmlWriter& xml, const VmConfig& vm) {
  xml.open("os");
  // q35: PCI Express root ports take NICs plugged in later without ACPI (pc's hot-plug is ACPI's);
  // no ACPI + a PVH vmlinux boot fastest under TCG.
  xml.element("type", "hvm", {{"arch", "x86_64"}, {"machine", "q35"}});
  xml.element("kernel", vm.kernel);
  xml.element("initrd", vm.initrd);
  xml.element("cmdline", vm.cmdline);
  xml.close();
}

// A guest NIC on a tap QEMU opens by name (runvirt made it: managed='no'), with the MAC of the
// container's interface; the alias names it for a later unplug.
void writeInterface(XmlWriter& xml, const NetworkInterface& nic) {
  xml.open("interface", {{"type", "ethernet"}});
  xml.empty("mac", {{"address", nic.mac}});
  xml.empty("target", {{"dev", nic.tap}, {"managed", "no"}});
  xml.empty("model", {{"type", "virtio"}});
  xml.empty("alias", {{"name", interfaceAlias(nic)}});
  xml.close();
}

// The PCI Express devices writeDevices() adds: the virtio-serial controller of the channels, the
// two virtio-fs devices, the NICs and the disks.
unsigned coldPluggedPciDevices(const VmConfig& vm) {
  return 3 + static_cast<unsigned>(vm.interfaces.size() + vm.disks.size());
}

// A host block device as a virtio-blk disk (vda, vdb, ...); the agent finds it by its serial.
void writeDisk(XmlWriter& xml, const BlockDisk& disk, std::size_t index) {
  xml.open("disk", {{"type", "block"}, {"device", "disk"}});
  xml.empty("driver", {{"name", "qemu"}, {"type", "raw"}, {"cache", "none"}});
  xml.empty("source", {{"dev", disk.hostPath}});
  xml.empty("target",
            {{"dev", "vd" + std::string(1, static_cast<char>('a' + index))}, {"bus", "virtio"}});
  xml.element("serial", disk.serial);
  if (disk.readonly) xml.empty("readonly");
  xml.close();
}

// A virtio-fs device exporting `source` as `tag`. `cache` "always" lets the guest keep pages
// and entries (docs/libvirt-recipe.md); "" leaves virtiofsd's default, auto (libvirt 9.0 does
// not accept `auto` by name): revalidated on open and after a second.
void writeFilesystem(XmlWriter& xml, const VmConfig& vm, const std::string& source,
                     std::string_view tag, const std::string& cache) {
  xml.open("filesystem", {{"type", "mount"}, {"accessmode", "passthrough"}});
  xml.empty("driver", {{"type", "virtiofs"}, {"queue", "1024"}});
  if (cache.empty()) {
    xml.empty("binary", {{"path", vm.virtiofsd}, {"xattr", "on"}});
  } else {
    xml.open("binary", {{"path", vm.virtiofsd}, {"xattr", "on"}});
    xml.empty("cache", {{"mode", cache}});
    xml.close();
  }
  xml.empty("source", {{"dir", source}});
  xml.empty("target", {{"dir", std::string(tag)}});
  xml.close();
}

// QEMU 6.1+ gives q35's root ports ACPI hot-plug by default; this guest has no ACPI, so the
// ports must keep PCI Express native hot-plug (else even the devices present at boot read as
// absent). libvirt 9.0 has no element for it (later versions: <acpi-bridge-hotplug>).
void writeQemuArguments(XmlWriter& xml) {
  xml.open("qemu:commandline");
  xml.empty("qemu:arg", {{"value", "-global"}});
  xml.empty("qemu:arg", {{"value", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"}});
  xml.close();
}

void writeDevices(XmlWriter& xml, const VmConfig& vm) {
  xml.open("devices");
  xml.element("emulator", vm.emulator);
  // The guest console goes through virtlogd (size-capped, rotated): a chatty guest cannot fill
  // /run.
  xml.open("serial", {{"type", "null"}});
  xml.empty("log", {{"file", vm.paths.consoleLog()}, {"append", "off"}});
  xml.empty("target", {{"port", "0"}});
  xml.close();
  // The agent channel: virtio-serial on a unix socket libvirt creates (vsock needs vhost-vsock).
  xml.open("channel", {{"type", "unix"}});
  xml.empty("source", {{"mode", "bind"}, {"path", vm.paths.agentSocket()}});
  xml.empty("target", {{"type", "virtio"}, {"name", std::string(agent::kChannelName)}});
  xml.close();
  if (vm.dnsRelay) {
    // DNS queries for Docker's embedded server, relayed into the container's netns on the host.
    xml.open("channel", {{"type", "unix"}});
    xml.empty("source", {{"mode", "bind"}, {"path", vm.paths.dnsSocket()}});
    xml.empty("target", {{"type", "virtio"}, {"name", std::string(agent::kDnsChannelName)}});
    xml.close();
  }
  // Two virtio-fs shares, prepared on the host (storage/share.hpp): the image rootfs, which the
  // guest may cache as its own, and the volumes, which stay coherent with the host.
  writeFilesystem(xml, vm, vm.paths.shareDir(), agent::kShareTag, "always");
  writeFilesystem(xml, vm, vm.paths.volumesDir(), agent::kVolumesTag, "");
  for (const auto& nic : vm.interfaces) writeInterface(xml, nic);
  for (std::size_t i = 0; i < vm.disks.size(); ++i) writeDisk(xml, vm.disks[i], i);
  // One root port per device above, which libvirt fills in order, and hotplugSlots more, empty.
  xml.empty("controller", {{"type", "pci"}, {"index", "0"}, {"model", "pcie-root"}});
  unsigned ports = coldPluggedPciDevices(vm) + vm.hotplugSlots;
  for (unsigned i = 0; i < ports; ++i)
    xml.empty("controller", {{"type", "pci"}, {"model", "pcie-root-port"}});
  xml.empty("controller", {{"type", "usb"}, {"model", "none"}});
  xml.empty("memballoon", {{"model", "none"}});
  xml.close();
}

}  // namespace

std::string interfaceAlias(const NetworkInterface& nic) { return "ua-" + nic.tap; }

std::string interfaceXml(const NetworkInterface& nic) {
  XmlWriter xml;
  writeInterface(xml, nic);
  return xml.finish();
}

std::string buildDomainXml(const VmConfig& vm) {
  XmlWriter xml;
  xml.open("domain", {{"type", vm.accelerator == Accelerator::Kvm ? "kvm" : "qemu"},
                      {"xmlns:qemu", "http://libvirt.org/schemas/domain/qemu/1.0"}});
  xml.element("name", vm.name);
  xml.element("title", "runvirt container " + vm.owner.containerId);
  // Who owns the VM (vm_owner.hpp): the reaper removes a domain whose owner is gone.
  xml.open("metadata");
  writeOwnerMetadata(xml, vm.owner);
  xml.close();
  xml.element("memory", std::to_string(vm.memoryMiB), {{"unit", "MiB"}});
  xml.element("vcpu", std::to_string(vm.vcpus));
  // KVM: the host CPU as is. TCG: every feature QEMU can emulate, so binaries built for
  // newer x86-64 levels still run (measured: no boot-time cost).
  xml.empty("cpu", {{"mode", vm.accelerator == Accelerator::Kvm ? "host-passthrough" : "maximum"}});
  writeOs(xml, vm);
  if (vm.acpi || vm.tcgTbCacheMiB) {
    xml.open("features");
    if (vm.acpi)
      xml.empty("acpi");  // the guest's only way to see more than one vCPU (vm_config.cpp)
    if (vm.tcgTbCacheMiB) {
      xml.open("tcg");
      xml.element("tb-cache", std::to_string(vm.tcgTbCacheMiB), {{"unit", "MiB"}});
      xml.close();
    }
    xml.close();
  }
  // virtio-fs needs guest RAM that virtiofsd can map.
  xml.open("memoryBacking");
  xml.empty("source", {{"type", "memfd"}});
  xml.empty("access", {{"mode", "shared"}});
  xml.close();
  // The guest ends the VM by resetting it; nothing ever restarts.
  xml.element("on_poweroff", "destroy");
  xml.element("on_reboot", "destroy");
  xml.element("on_crash", "destroy");
  writeDevices(xml, vm);
  // QEMU runs unprivileged and libvirt must not chown the shared guest kernel and initrd.
  xml.open("seclabel", {{"type", "static"}, {"model", "dac"}, {"relabel", "no"}});
  xml.element("label", vm.qemuUser + ":" + vm.qemuUser);
  xml.close();
  writeQemuArguments(xml);
  return xml.finish();
}

}  // namespace runvirt::backend

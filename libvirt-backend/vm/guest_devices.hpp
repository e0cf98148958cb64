// The device nodes a container asks for (OCI linux.devices, `docker run --device`) as its VM
// provides them. The guest kernel has a fixed set of character devices (null, zero, full,
// random, urandom, tty, fuse, net/tun: guest/kernel/runvirt-guest.config); the agent makes
// their nodes with the spec's numbers. A host block device becomes a virtio-blk disk whose
// serial the agent looks up in the guest. Anything else is refused before the VM starts,
// naming the device: never a silent regular file where the workload expects a device.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"
#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

// A host block device handed to the VM as a virtio-blk disk.
struct BlockDisk {
  std::int64_t major = 0;
  std::int64_t minor = 0;
  // The node QEMU opens: the host's (e.g. /dev/loop0) until makeDiskNodes() gives QEMU its own.
  std::string hostPath;
  std::string serial;     // how the guest finds it (/sys/block/vd*/serial)
  bool readonly = false;  // the device cgroup rules of the spec allow no writes
};

struct GuestDevices {
  std::vector<agent::Device> nodes;  // for the agent, in the spec's order
  std::vector<BlockDisk> disks;
  // A privileged container's host devices the VM does not get (see planGuestDevices).
  std::vector<std::string> leftOut;
};

// The host's node for block device major:minor; throws NotFound when the host has none.
using HostBlockDevice = std::function<std::string(std::int64_t major, std::int64_t minor)>;

// Throws InvalidArgument naming the first device the guest cannot provide. Except for a
// privileged container (`docker run --privileged`: a device cgroup rule allows every device),
// whose spec lists every host device: a VM is not given the host's devices (as containerd's
// privileged_without_host_devices for VM runtimes); it gets the character devices its kernel
// has, and the rest are listed in `leftOut` for the caller to log.
GuestDevices planGuestDevices(const oci::Spec& spec, const HostBlockDevice& findHostBlock);

// QEMU runs as `qemuUser` and may not open the host's nodes (libvirt must not chown them): each
// disk gets a node of its own in `dir` (made with its parents, 0711), owned by that user, 0600
// (0400 when read-only), so QEMU reaches exactly these devices; tearDownVm() removes `dir`.
void makeDiskNodes(const std::string& dir, std::vector<BlockDisk>& disks,
                   const std::string& qemuUser);

// The host's block device major:minor through sysfs (/sys/dev/block/M:m), checked to be a
// block device node with those numbers.
std::string hostBlockDevice(std::int64_t major, std::int64_t minor);

// A rule that allows every access to every device: Docker's --privileged.
bool allowsAllDevices(const std::vector<oci::DeviceRule>& rules);

// The access ("rwm" subset) linux.resources.devices rules leave to a device, applied in order
// over the cgroup default of full access.
std::string allowedAccess(const std::vector<oci::DeviceRule>& rules, char type, std::int64_t major,
                          std::int64_t minor);

}  // namespace runvirt::backend

// The device nodes of linux.devices (`docker run --device`), made in the container's /dev before
// pivot_root. The host checked each (a path under /dev, a device this guest has) and handed
// block devices to the VM as virtio-blk disks named by serial
// (libvirt-backend/vm/guest_devices.hpp).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "runvirt/agent/protocol.hpp"

namespace runvirt::agent {

// Creates each node under `rootFd` (the container's root) with its type, numbers, mode and
// owner; directories above it are made as needed. A node already there is kept, as runc does.
void createDevices(int rootFd, const std::vector<Device>& devices);

// "major:minor" of the disk whose /sys/block/<name>/serial is `serial`, waiting up to `wait` for
// it to appear; throws naming the serial.
std::string blockDeviceNumbers(const std::string& sysBlock, const std::string& serial,
                               std::chrono::milliseconds wait);

}  // namespace runvirt::agent

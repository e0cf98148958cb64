// PID 1's start-up, before it can serve: the steps the kernel leaves to init.
#pragma once

#include <chrono>
#include <string_view>

#include "channel.hpp"
#include "runvirt/agent/protocol.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

// Mounts /proc, /sys, /dev, /dev/pts; returns /dev/console opened for logging.
UniqueFd mountEarlyFilesystems();
// The kernel command line asks for verbose logs (runvirt.debug=1).
bool debugRequested();
// pivot_root refuses to move the initramfs (rootfs, a mount with no parent): put a bind of
// it on top and chroot there, so container inits can pivot_root away from it.
void makeRootPivotable();
// Loads /lib/modules/*.ko in the order of /lib/modules/load.list; already loaded is fine.
void loadModules();
void bringLoopbackUp();
// Mounts the virtio-fs share (tag kShareTag) at kShareDir and the volumes share (kVolumesTag) at
// its volumes/; a VM without them only warns.
void mountShare();
// Finds the virtio-serial port named kChannelName and opens it (waits for it to appear).
UniqueFd openHostPort();
// Opens the virtio-serial port called `name` (open(2) `flags` added), waiting up to `wait`
// for it to appear.
UniqueFd openVirtioPort(std::string_view name, std::chrono::milliseconds wait, int flags);
// Sends Hello and waits for the host's hello with the same version; throws on a mismatch.
void exchangeHello(Channel& channel);

}  // namespace runvirt::agent

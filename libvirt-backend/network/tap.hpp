// The tap devices that carry a container's traffic to its VM's NICs. libvirt opens a tap by
// name in the host's network namespace (`<target dev=... managed='no'/>`), so each tap is
// created there, persistent, and moved into the container's namespace once QEMU holds it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace runvirt::backend {

// "rv" + 10 random hex digits: fits IFNAMSIZ, never one of Docker's names, and tells
// `ip link` readers whose it is.
std::string newTapName();
bool isTapName(std::string_view name);

// Creates the persistent tap `name` in the network namespace `namespaceFd`. Throws Error when a
// device of that name already exists there.
void createTap(const std::string& name, int namespaceFd);

// <vm dir>/taps: the taps made for a VM, written before they are created, so that whoever
// tears the VM down (delete, the reaper) finds any a crash left in the host's namespace.
void recordTaps(const std::string& vmDir, const std::vector<std::string>& names);
// The recorded names that are runvirt tap names; none when the file is missing.
std::vector<std::string> recordedTaps(const std::string& vmDir);

// Deletes the taps of `names` still in the host's network namespace (the calling thread's,
// or `namespaceFd`'s when given): set-up died between creating them and moving them into the
// container's. Names that are not runvirt tap names, and devices that are not taps, are left
// alone; absent ones are fine. `delete` calls this with the taps of the container's record.
void removeHostTaps(const std::vector<std::string>& names, int namespaceFd = -1);

}  // namespace runvirt::backend

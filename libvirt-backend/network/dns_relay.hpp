// Docker's embedded DNS server answers at 127.0.0.11:53 inside the container's network
// namespace on the host (user-defined networks write `nameserver 127.0.0.11` into the
// container's resolv.conf). The guest cannot reach that address, so the agent serves it in the
// VM and sends each query over a virtio-serial port (kDnsChannelName); on the host a small
// process, forked by the monitor into the container's namespace, asks the real server and
// sends the answer back.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

// The resolv.conf text has a `nameserver ADDRESS` line.
bool namesNameserver(std::string_view resolvConf, std::string_view address);
// The container's /etc/resolv.conf (its bind mount's source) names Docker's embedded server:
// then the guest needs the relay. Absent: false. Unreadable or larger than 1 MiB: false, and a
// warning that names the file.
bool usesEmbeddedDns(const oci::Spec& spec, const std::string& bundle);

// Relays until the channel reaches end of file: each query read from `channel` ([u16 length]
// [message]) goes to `upstream` over UDP (over TCP again when the answer came back truncated),
// each answer goes back on `channel`.
void relayDns(int channel, const sockaddr_in& upstream);

// Forks the relay: it connects to the DNS port's socket `socketPath` (waiting until QEMU made
// it) and relays to kDnsAddress:53 in the calling thread's network namespace. It keeps no fd
// of the caller's, and dies with the caller (PR_SET_PDEATHSIG) or with the VM (end of file).
pid_t startDnsRelay(const std::string& socketPath);

}  // namespace runvirt::backend

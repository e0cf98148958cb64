// OCI linux.seccomp -> classic BPF bytes, compiled on the host with libseccomp. The guest agent
// only loads the bytes right before execve, so the static agent needs no libseccomp.
#pragma once

#include <string>

#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

// Returns the BPF program (an array of struct sock_filter). Syscall names unknown to this
// architecture are skipped, as runc does. Throws Error for unknown actions or operators.
std::string compileSeccomp(const oci::Seccomp& profile);

}  // namespace runvirt::backend

// OCI linux.seccomp -> classic BPF bytes, compiled on the host with libseccomp. The guest agent
// only loads the bytes right before execve, so the static agent needs no libseccomp.
#pragma once

#include <string>
#include <vector>

#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

// Returns the BPF program (an array of struct sock_filter). Syscall names unknown to this
// architecture are skipped, as runc does. Throws Error for unknown actions or operators.
std::string compileSeccomp(const oci::Seccomp& profile);

// The action and operator names compileSeccomp() accepts, sorted (`runvirt features`).
std::vector<std::string> seccompActionNames();
std::vector<std::string> seccompOperatorNames();
// The architectures of runvirt's guests (an x86_64 kernel, with the i386 and x32 ABIs), sorted
// (`runvirt features`). A profile may name others: libseccomp resolves them or they are skipped.
std::vector<std::string> seccompArchitectureNames();

}  // namespace runvirt::backend

// Everything that decides a container's VM, derived purely from the OCI spec, the runtime
// config and the VM's identity. No I/O: golden-tested through buildDomainXml.
#pragma once

#include <string>
#include <vector>

#include "common/runtime_config.hpp"
#include "vm/guest_devices.hpp"
#include "vm/vm_owner.hpp"
#include "runvirt/oci/spec.hpp"

namespace runvirt::backend {

enum class Accelerator { Kvm, Tcg };
std::string toString(Accelerator accelerator);

// Where a VM's host-side files live: <vm_dir>/<domain name>/ (short, unix sockets fit).
struct VmPaths {
  std::string dir;
  std::string agentSocket() const { return dir + "/agent.sock"; }
  std::string dnsSocket() const { return dir + "/dns.sock"; }
  std::string controlSocket() const { return dir + "/control.sock"; }
  std::string consoleLog() const { return dir + "/console.log"; }
  std::string shareDir() const { return dir + "/share"; }
  std::string volumesDir() const { return dir + "/volumes"; }
  // Nodes of the host block devices the VM was given, owned by QEMU's user (guest_devices.hpp):
  // in /dev, the one file system sure to allow device nodes.
  std::string diskNodesDir() const { return "/dev/runvirt/" + dir.substr(dir.rfind('/') + 1); }
  // Written right before the domain starts: from then on a teardown must destroy it.
  std::string domainMarker() const { return dir + "/domain-started"; }
};

struct NetworkInterface {
  std::string tap;  // host tap device QEMU opens (managed='no')
  std::string mac;
};

struct VmConfig {
  std::string name;  // libvirt domain name (not the container id)
  VmOwner owner;     // in the domain's title and metadata (vm_owner.hpp)
  Accelerator accelerator = Accelerator::Tcg;
  unsigned vcpus = 1;
  bool acpi = false;  // ACPI tables (<features><acpi/>): how the guest finds vCPUs beyond the first
  unsigned tcgTbCacheMiB =
      0;  // TCG's translation cache (<features><tcg><tb-cache>); 0 = QEMU's default
  unsigned memoryMiB = 512;
  std::string emulator;
  std::string kernel;
  std::string initrd;
  std::string cmdline;
  std::string virtiofsd;
  std::string qemuUser;
  VmPaths paths;
  std::vector<NetworkInterface> interfaces;
  std::vector<BlockDisk> disks;  // host block devices the container was given (guest_devices.hpp)
  // Empty PCI Express root ports, for NICs plugged in while the VM runs.
  unsigned hotplugSlots = 4;
  // A second virtio-serial port for DNS queries to Docker's embedded server (dns_relay.hpp).
  bool dnsRelay = false;
};

struct VmIdentity {
  std::string name;
  VmOwner owner;
  VmPaths paths;
};

// What the plan takes from the host.
struct HostFacts {
  unsigned cpus = 1;
  unsigned tscKhz = 0;  // the host's TSC rate, which a TCG guest's TSC runs at; 0 = unknown
};

// vCPUs from linux.resources.cpu quota/period (rounded up, at most host.cpus), memory from
// linux.resources.memory.limit plus the configured overhead; defaults otherwise. Pure.
VmConfig planVm(const oci::Spec& spec, const RuntimeConfig& config, const VmIdentity& identity,
                Accelerator accelerator, const HostFacts& host, bool debug);

// The host's TSC rate in kHz, measured once per process against CLOCK_MONOTONIC_RAW over the
// process's lifetime so far (at least 5 ms); 0 when the host's TSC is not invariant or not x86.
unsigned hostTscKhz();

// The guest kernel command line (fast boot options measured in docs/libvirt-recipe.md §8);
// acpi=off unless the VM has ACPI tables; under TCG the local APIC timer's known rate and, when
// tscKhz is not 0, the TSC's (vm_config.cpp).
std::string guestCmdline(const RuntimeConfig& config, Accelerator accelerator, bool debug,
                         bool acpi = false, unsigned tscKhz = 0);

// Libvirt domain XML for the VM. Pure and deterministic.
std::string buildDomainXml(const VmConfig& vm);

// One guest NIC's <interface> element, as in the domain XML: for plugging it into a running VM.
std::string interfaceXml(const NetworkInterface& nic);
// The NIC's user alias ("ua-<tap>"): what unplugs it.
std::string interfaceAlias(const NetworkInterface& nic);

}  // namespace runvirt::backend

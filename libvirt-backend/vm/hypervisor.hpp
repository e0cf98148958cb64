// The seam in front of libvirt: container code talks to this interface, tests use a fake,
// and LibvirtHypervisor (the only translation unit that includes libvirt) is the real one.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vm/vm_owner.hpp"

namespace runvirt::backend {

enum class DomainState { Running, Paused, ShutOff, Other };

// A domain libvirt knows, with runvirt's owner record from its metadata (vm_owner.hpp).
struct DomainInfo {
  std::string name;
  std::optional<VmOwner> owner;  // std::nullopt: not runvirt's, or from another version
};

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;

  // Starts a transient domain. It is not tied to this connection (no autodestroy): it must
  // outlive a libvirtd restart, and libvirt 9.0's shutdown deadlocks on autodestroy
  // (docs/libvirt-recipe.md §10). Its owner (vm_owner.hpp) is in its metadata instead.
  virtual void startTransient(const std::string& xml) = 0;
  // Hard power-off. Returns false when no such domain exists (already gone).
  virtual bool destroy(const std::string& name) = 0;
  virtual bool exists(const std::string& name) = 0;
  virtual DomainState state(const std::string& name) = 0;
  virtual void suspend(const std::string& name) = 0;
  virtual void resume(const std::string& name) = 0;
  // Every domain (running or paused; transient domains exist only while they run).
  virtual std::vector<DomainInfo> listDomains() = 0;
  // Plugs a device (its XML, e.g. interfaceXml()) into the running domain.
  virtual void attachDevice(const std::string& name, const std::string& deviceXml) = 0;
  // Asks the running domain to let go of the device with user alias `alias` ("ua-..."); the
  // removal completes when the guest releases it (asynchronously). False when no such device.
  virtual bool detachDevice(const std::string& name, const std::string& alias) = 0;
  // The running domain's live XML.
  virtual std::string liveXml(const std::string& name) = 0;
  // "libvirt 9.0.0, QEMU 7.2.22"
  virtual std::string versions() = 0;
};

// How long connecting may take before libvirt counts as not answering.
inline constexpr double kLibvirtConnectTimeoutSeconds = 5;

// Connects to libvirt at `uri` (e.g. qemu:///system). Throws Error when libvirtd is unreachable,
// and Error(Timeout) naming the URI when it does not answer within kLibvirtConnectTimeoutSeconds
// (a remote URI whose host drops packets would otherwise hang for minutes).
std::unique_ptr<Hypervisor> connectLibvirt(const std::string& uri);

// Opens a hypervisor connection: connectLibvirt in production, a fake in unit tests.
using HypervisorFactory = std::function<std::unique_ptr<Hypervisor>(const std::string& uri)>;

}  // namespace runvirt::backend

// The seam in front of libvirt: container code talks to this interface, tests use a fake,
// and LibvirtHypervisor (the only translation unit that includes libvirt) is the real one.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace runvirt::backend {

enum class DomainState { Running, Paused, ShutOff, Other };

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;

  // Starts a transient domain. With `tiedToConnection`, libvirt destroys it when this
  // connection closes, so a crashed monitor cannot leak a VM.
  virtual void startTransient(const std::string& xml, bool tiedToConnection) = 0;
  // Hard power-off. Returns false when no such domain exists (already gone).
  virtual bool destroy(const std::string& name) = 0;
  virtual bool exists(const std::string& name) = 0;
  virtual DomainState state(const std::string& name) = 0;
  virtual void suspend(const std::string& name) = 0;
  virtual void resume(const std::string& name) = 0;
  // "libvirt 9.0.0, QEMU 7.2.22"
  virtual std::string versions() = 0;
};

// Connects to libvirt at `uri` (e.g. qemu:///system). Throws Error when libvirtd is unreachable.
std::unique_ptr<Hypervisor> connectLibvirt(const std::string& uri);

// Opens a hypervisor connection: connectLibvirt in production, a fake in unit tests.
using HypervisorFactory = std::function<std::unique_ptr<Hypervisor>(const std::string& uri)>;

}  // namespace runvirt::backend

// The only file that includes libvirt: RAII handles and libvirt errors folded into runvirt::Error.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <memory>

#include "vm/hypervisor.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

namespace {

struct ConnectDeleter {
  void operator()(virConnectPtr c) const { virConnectClose(c); }
};
struct DomainDeleter {
  void operator()(virDomainPtr d) const { virDomainFree(d); }
};
using ConnectHandle = std::unique_ptr<virConnect, ConnectDeleter>;
using DomainHandle = std::unique_ptr<virDomain, DomainDeleter>;

// libvirt prints errors to stderr by default; stderr belongs to the container's workload.
void ignoreLibvirtError(void*, virErrorPtr) {}

[[noreturn]] void throwLibvirt(const std::string& context) {
  virErrorPtr err = virGetLastError();
  std::string message = err && err->message ? err->message : "unknown libvirt error";
  ErrorKind kind = err && err->code == VIR_ERR_NO_DOMAIN ? ErrorKind::NotFound : ErrorKind::Failure;
  throw Error(context + ": " + message, kind);
}

std::string versionString(unsigned long v) {
  return std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." + std::to_string(v % 1000);
}

class LibvirtHypervisor : public Hypervisor {
 public:
  explicit LibvirtHypervisor(ConnectHandle conn) : conn_(std::move(conn)) {}

  void startTransient(const std::string& xml, bool tiedToConnection) override {
    unsigned flags = tiedToConnection ? VIR_DOMAIN_START_AUTODESTROY : 0;
    // UNSAFE-ish: hands the XML to libvirtd, which starts QEMU and virtiofsd as configured.
    DomainHandle dom(virDomainCreateXML(conn_.get(), xml.c_str(), flags));
    if (!dom) throwLibvirt("start domain");
  }

  bool destroy(const std::string& name) override {
    DomainHandle dom = lookup(name);
    if (!dom) return false;
    if (virDomainDestroy(dom.get()) < 0) {
      virErrorPtr err = virGetLastError();
      // Already stopping or gone (e.g. the guest reset itself meanwhile): that is the goal.
      if (err && (err->code == VIR_ERR_NO_DOMAIN || err->code == VIR_ERR_OPERATION_INVALID)) return true;
      throwLibvirt("destroy domain `" + name + "`");
    }
    return true;
  }

  bool exists(const std::string& name) override { return lookup(name) != nullptr; }

  DomainState state(const std::string& name) override {
    DomainHandle dom = require(name);
    int state = 0, reason = 0;
    if (virDomainGetState(dom.get(), &state, &reason, 0) < 0) throwLibvirt("state of domain `" + name + "`");
    switch (state) {
      case VIR_DOMAIN_RUNNING: return DomainState::Running;
      case VIR_DOMAIN_PAUSED: return DomainState::Paused;
      case VIR_DOMAIN_SHUTOFF: return DomainState::ShutOff;
      default: return DomainState::Other;
    }
  }

  void suspend(const std::string& name) override {
    if (virDomainSuspend(require(name).get()) < 0) throwLibvirt("suspend domain `" + name + "`");
  }

  void resume(const std::string& name) override {
    if (virDomainResume(require(name).get()) < 0) throwLibvirt("resume domain `" + name + "`");
  }

  std::string versions() override {
    unsigned long lib = 0, hv = 0;
    if (virConnectGetLibVersion(conn_.get(), &lib) < 0) throwLibvirt("libvirt version");
    if (virConnectGetVersion(conn_.get(), &hv) < 0) throwLibvirt("hypervisor version");
    return "libvirt " + versionString(lib) + ", QEMU " + versionString(hv);
  }

 private:
  DomainHandle lookup(const std::string& name) {
    DomainHandle dom(virDomainLookupByName(conn_.get(), name.c_str()));
    if (!dom) {
      virErrorPtr err = virGetLastError();
      if (err && err->code == VIR_ERR_NO_DOMAIN) return nullptr;
      throwLibvirt("look up domain `" + name + "`");
    }
    return dom;
  }

  DomainHandle require(const std::string& name) {
    DomainHandle dom = lookup(name);
    if (!dom) throw Error("domain `" + name + "` does not exist", ErrorKind::NotFound);
    return dom;
  }

  ConnectHandle conn_;
};

}  // namespace

std::unique_ptr<Hypervisor> connectLibvirt(const std::string& uri) {
  virSetErrorFunc(nullptr, ignoreLibvirtError);
  ConnectHandle conn(virConnectOpen(uri.c_str()));
  if (!conn) throwLibvirt("connect to libvirt at `" + uri + "` (is libvirtd running?)");
  return std::make_unique<LibvirtHypervisor>(std::move(conn));
}

}  // namespace runvirt::backend

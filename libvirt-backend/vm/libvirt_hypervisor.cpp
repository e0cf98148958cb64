// The only file that includes libvirt: RAII handles and libvirt errors folded into runvirt::Error.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "common/durations.hpp"
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

// This thread's last libvirt error (libvirt keeps one per thread).
std::string lastErrorMessage() {
  virErrorPtr err = virGetLastError();
  return err && err->message ? err->message : "unknown libvirt error";
}

[[noreturn]] void throwLibvirt(const std::string& context) {
  virErrorPtr err = virGetLastError();
  ErrorKind kind = err && err->code == VIR_ERR_NO_DOMAIN ? ErrorKind::NotFound : ErrorKind::Failure;
  throw Error(context + ": " + lastErrorMessage(), kind);
}

// runvirt's owner record in a domain's metadata; std::nullopt when it has none.
std::optional<VmOwner> ownerOf(virDomainPtr dom) {
  char* xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, kMetadataNamespace, 0);
  if (!xml) return std::nullopt;
  std::string text = xml;
  std::free(xml);
  return parseOwnerMetadata(text);
}

// virConnectOpen in a thread of its own, so that a URI that does not answer costs at most
// `timeoutSeconds`: the attempt is then abandoned (its thread closes what it opens late).
ConnectHandle openWithin(const std::string& uri, double timeoutSeconds) {
  struct Attempt {
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;
    bool abandoned = false;
    virConnectPtr conn = nullptr;
    std::string error;
  };
  auto attempt = std::make_shared<Attempt>();
  std::thread([attempt, uri] {
    virConnectPtr conn = virConnectOpen(uri.c_str());
    std::string error = conn ? "" : lastErrorMessage();
    std::lock_guard lock(attempt->mutex);
    if (attempt->abandoned) {
      if (conn) virConnectClose(conn);
      return;
    }
    attempt->conn = conn;
    attempt->error = error;
    attempt->done = true;
    attempt->finished.notify_all();
  }).detach();
  std::unique_lock lock(attempt->mutex);
  if (!attempt->finished.wait_for(lock, std::chrono::duration<double>(timeoutSeconds),
                                  [&] { return attempt->done; })) {
    attempt->abandoned = true;
    throw Error(
        "libvirt at `" + uri + "` does not answer within " + formatSeconds(timeoutSeconds, 0),
        ErrorKind::Timeout);
  }
  if (!attempt->conn)
    throw Error("connect to libvirt at `" + uri + "` (is libvirtd running?): " + attempt->error);
  return ConnectHandle(attempt->conn);
}

std::string versionString(unsigned long v) {
  return std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." +
         std::to_string(v % 1000);
}

class LibvirtHypervisor : public Hypervisor {
 public:
  explicit LibvirtHypervisor(ConnectHandle conn) : conn_(std::move(conn)) {}

  void startTransient(const std::string& xml) override {
    // Hands the XML to libvirtd, which starts QEMU and virtiofsd as configured.
    DomainHandle dom(virDomainCreateXML(conn_.get(), xml.c_str(), 0));
    if (!dom) throwLibvirt("start domain");
  }

  bool destroy(const std::string& name) override {
    DomainHandle dom = lookup(name);
    if (!dom) return false;
    if (virDomainDestroy(dom.get()) < 0) {
      virErrorPtr err = virGetLastError();
      // Already stopping or gone (e.g. the guest reset itself meanwhile): that is the goal.
      if (err && (err->code == VIR_ERR_NO_DOMAIN || err->code == VIR_ERR_OPERATION_INVALID))
        return true;
      throwLibvirt("destroy domain `" + name + "`");
    }
    return true;
  }

  bool exists(const std::string& name) override { return lookup(name) != nullptr; }

  DomainState state(const std::string& name) override {
    DomainHandle dom = require(name);
    int state = 0, reason = 0;
    if (virDomainGetState(dom.get(), &state, &reason, 0) < 0)
      throwLibvirt("state of domain `" + name + "`");
    switch (state) {
      case VIR_DOMAIN_RUNNING:
        return DomainState::Running;
      case VIR_DOMAIN_PAUSED:
        return DomainState::Paused;
      case VIR_DOMAIN_SHUTOFF:
        return DomainState::ShutOff;
      default:
        return DomainState::Other;
    }
  }

  void suspend(const std::string& name) override {
    if (virDomainSuspend(require(name).get()) < 0) throwLibvirt("suspend domain `" + name + "`");
  }

  void resume(const std::string& name) override {
    if (virDomainResume(require(name).get()) < 0) throwLibvirt("resume domain `" + name + "`");
  }

  std::vector<DomainInfo> listDomains() override {
    virDomainPtr* domains = nullptr;
    int count = virConnectListAllDomains(conn_.get(), &domains, 0);
    if (count < 0) throwLibvirt("list domains");
    std::vector<DomainHandle> handles;
    for (int i = 0; i < count; ++i) handles.emplace_back(domains[i]);
    std::free(domains);
    std::vector<DomainInfo> out;
    for (const auto& dom : handles) {
      const char* name = virDomainGetName(dom.get());
      if (name) out.push_back({name, ownerOf(dom.get())});
    }
    return out;
  }

  void attachDevice(const std::string& name, const std::string& deviceXml) override {
    if (virDomainAttachDeviceFlags(require(name).get(), deviceXml.c_str(), VIR_DOMAIN_AFFECT_LIVE) <
        0) {
      throwLibvirt("plug a device into domain `" + name + "`");
    }
  }

  bool detachDevice(const std::string& name, const std::string& alias) override {
    // Asynchronous: libvirt returns once QEMU was asked; the guest releases the device after.
    if (virDomainDetachDeviceAlias(require(name).get(), alias.c_str(), VIR_DOMAIN_AFFECT_LIVE) <
        0) {
      virErrorPtr err = virGetLastError();
      if (err && err->code == VIR_ERR_DEVICE_MISSING) return false;
      throwLibvirt("unplug device `" + alias + "` from domain `" + name + "`");
    }
    return true;
  }

  std::string liveXml(const std::string& name) override {
    char* xml = virDomainGetXMLDesc(require(name).get(), 0);
    if (!xml) throwLibvirt("XML of domain `" + name + "`");
    std::string text = xml;
    std::free(xml);
    return text;
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
  return std::make_unique<LibvirtHypervisor>(openWithin(uri, kLibvirtConnectTimeoutSeconds));
}

}  // namespace runvirt::backend

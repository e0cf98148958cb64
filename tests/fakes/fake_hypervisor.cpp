#include "fakes/fake_hypervisor.hpp"

#include <memory>

#include "runvirt/error.hpp"

namespace runvirt::test {

namespace {

// What the factory hands out: a connection that forwards to the shared fake.
class Connection : public backend::Hypervisor {
 public:
  explicit Connection(FakeHypervisor& fake) : fake_(fake) {}
  void startTransient(const std::string& xml, bool tied) override { fake_.startTransient(xml, tied); }
  bool destroy(const std::string& name) override { return fake_.destroy(name); }
  bool exists(const std::string& name) override { return fake_.exists(name); }
  backend::DomainState state(const std::string& name) override { return fake_.state(name); }
  void suspend(const std::string& name) override { fake_.suspend(name); }
  void resume(const std::string& name) override { fake_.resume(name); }
  std::string versions() override { return fake_.versions(); }

 private:
  FakeHypervisor& fake_;
};

// The text of <name>...</name> in a domain XML.
std::string domainName(const std::string& xml) {
  auto start = xml.find("<name>");
  auto end = xml.find("</name>");
  if (start == std::string::npos || end == std::string::npos) return "";
  return xml.substr(start + 6, end - start - 6);
}

}  // namespace

backend::HypervisorFactory FakeHypervisor::factory() {
  return [this](const std::string& uri) -> std::unique_ptr<backend::Hypervisor> {
    uris_.push_back(uri);
    return std::make_unique<Connection>(*this);
  };
}

void FakeHypervisor::addDomain(const std::string& name, backend::DomainState state) { domains_[name] = state; }

void FakeHypervisor::failCall(std::size_t n, std::string message) { failures_[n] = std::move(message); }

void FakeHypervisor::record(const std::string& call) {
  calls_.push_back(call);
  if (auto it = failures_.find(calls_.size()); it != failures_.end()) throw Error(it->second);
}

void FakeHypervisor::requireDomain(const std::string& name) const {
  if (!hasDomain(name)) throw Error("domain " + quote(name) + " not found", ErrorKind::NotFound);
}

void FakeHypervisor::startTransient(const std::string& xml, bool tiedToConnection) {
  std::string name = domainName(xml);
  record("startTransient " + name + (tiedToConnection ? " tied" : ""));
  if (hasDomain(name)) throw Error("domain " + quote(name) + " already exists", ErrorKind::AlreadyExists);
  startedXml_.push_back(xml);
  domains_[name] = backend::DomainState::Running;
}

bool FakeHypervisor::destroy(const std::string& name) {
  record("destroy " + name);
  if (!domains_.erase(name)) return false;
  if (onDestroy) onDestroy(name);
  return true;
}

bool FakeHypervisor::exists(const std::string& name) {
  record("exists " + name);
  return hasDomain(name);
}

backend::DomainState FakeHypervisor::state(const std::string& name) {
  record("state " + name);
  requireDomain(name);
  return domains_.at(name);
}

void FakeHypervisor::suspend(const std::string& name) {
  record("suspend " + name);
  requireDomain(name);
  domains_[name] = backend::DomainState::Paused;
}

void FakeHypervisor::resume(const std::string& name) {
  record("resume " + name);
  requireDomain(name);
  domains_[name] = backend::DomainState::Running;
}

std::string FakeHypervisor::versions() {
  record("versions");
  return "fake hypervisor";
}

}  // namespace runvirt::test

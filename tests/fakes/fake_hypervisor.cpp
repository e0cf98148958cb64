#include "fakes/fake_hypervisor.hpp"

#include <memory>

#include "runvirt/error.hpp"

namespace runvirt::test {

namespace {

// What the factory hands out: a connection that forwards to the shared fake.
class Connection : public backend::Hypervisor {
 public:
  explicit Connection(FakeHypervisor& fake) : fake_(fake) {}
  void startTransient(const std::string& xml) override { fake_.startTransient(xml); }
  bool destroy(const std::string& name) override { return fake_.destroy(name); }
  bool exists(const std::string& name) override { return fake_.exists(name); }
  backend::DomainState state(const std::string& name) override { return fake_.state(name); }
  void suspend(const std::string& name) override { fake_.suspend(name); }
  void resume(const std::string& name) override { fake_.resume(name); }
  std::vector<backend::DomainInfo> listDomains() override { return fake_.listDomains(); }
  void attachDevice(const std::string& name, const std::string& xml) override {
    fake_.attachDevice(name, xml);
  }
  bool detachDevice(const std::string& name, const std::string& alias) override {
    return fake_.detachDevice(name, alias);
  }
  std::string liveXml(const std::string& name) override { return fake_.liveXml(name); }
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

// The value of `name='...'` in the first `<tag ...>` of `xml` that starts with `opening` (test
// paths need no XML escapes). Empty when absent.
std::string attribute(const std::string& xml, const std::string& opening, const std::string& name) {
  auto element = xml.find(opening);
  if (element == std::string::npos) return "";
  std::string tag = xml.substr(element, xml.find('>', element) - element);
  auto value = tag.find(" " + name + "='");
  if (value == std::string::npos) return "";
  value += name.size() + 3;
  return tag.substr(value, tag.find('\'', value) - value);
}

// Where QEMU would listen for the agent: the path of the <source mode='bind'> of the unix
// <channel> whose target is named agent::kChannelName. Empty when the domain has no such channel.
std::string agentSocketPath(const std::string& xml) {
  const std::string opening = "<channel type='unix'>";
  const std::string target = "name='" + std::string(agent::kChannelName) + "'";
  for (auto start = xml.find(opening); start != std::string::npos;
       start = xml.find(opening, start + 1)) {
    std::string channel = xml.substr(start, xml.find("</channel>", start) - start);
    if (channel.find(target) != std::string::npos)
      return attribute(channel, "<source mode='bind'", "path");
  }
  return "";
}

}  // namespace

backend::HypervisorFactory FakeHypervisor::factory() {
  return [this](const std::string& uri) -> std::unique_ptr<backend::Hypervisor> {
    uris_.push_back(uri);
    return std::make_unique<Connection>(*this);
  };
}

void FakeHypervisor::addDomain(const std::string& name, backend::DomainState state,
                               std::optional<backend::VmOwner> owner) {
  domains_[name] = state;
  owners_[name] = std::move(owner);
}

void FakeHypervisor::failCall(std::size_t n, std::string message) {
  failures_[n] = std::move(message);
}

void FakeHypervisor::record(const std::string& call) {
  calls_.push_back(call);
  if (auto it = failures_.find(calls_.size()); it != failures_.end()) throw Error(it->second);
}

void FakeHypervisor::requireDomain(const std::string& name) const {
  if (!hasDomain(name)) throw Error("domain " + quote(name) + " not found", ErrorKind::NotFound);
}

void FakeHypervisor::startTransient(const std::string& xml) {
  std::string name = domainName(xml);
  record("startTransient " + name);
  if (hasDomain(name))
    throw Error("domain " + quote(name) + " already exists", ErrorKind::AlreadyExists);
  startedXml_.push_back(xml);
  domains_[name] = backend::DomainState::Running;
  auto metadata = xml.find("<metadata>");
  if (metadata != std::string::npos)
    owners_[name] = backend::parseOwnerMetadata(xml.substr(metadata + 10));
  if (!agentOptions_) return;
  std::string socket = agentSocketPath(xml);
  if (socket.empty())
    throw Error("fake hypervisor: domain " + quote(name) + " has no agent channel");
  auto agent = std::make_unique<FakeAgent>(socket, *agentOptions_);
  if (agentScript_) agentScript_(*agent);
  agents_[name] = std::move(agent);
}

void FakeHypervisor::serveAgents(FakeAgent::Options options,
                                 std::function<void(FakeAgent&)> script) {
  agentOptions_ = std::move(options);
  agentScript_ = std::move(script);
}

FakeAgent* FakeHypervisor::agent(const std::string& name) const {
  auto it = agents_.find(name);
  return it == agents_.end() ? nullptr : it->second.get();
}

bool FakeHypervisor::destroy(const std::string& name) {
  record("destroy " + name);
  owners_.erase(name);
  if (!domains_.erase(name)) return false;
  if (FakeAgent* guest = agent(name)) guest->closeChannel();
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

std::vector<backend::DomainInfo> FakeHypervisor::listDomains() {
  record("listDomains");
  std::vector<backend::DomainInfo> out;
  for (const auto& [name, state] : domains_) {
    auto owner = owners_.find(name);
    out.push_back({name, owner == owners_.end() ? std::nullopt : owner->second});
  }
  return out;
}

void FakeHypervisor::attachDevice(const std::string& name, const std::string& xml) {
  std::string alias = attribute(xml, "<alias", "name");
  record("attachDevice " + name + " " + alias);
  requireDomain(name);
  devices_[name][alias] = xml;
}

bool FakeHypervisor::detachDevice(const std::string& name, const std::string& alias) {
  record("detachDevice " + name + " " + alias);
  requireDomain(name);
  return devices_[name].erase(alias) > 0;
}

std::string FakeHypervisor::liveXml(const std::string& name) {
  record("liveXml " + name);
  requireDomain(name);
  std::string xml = "<domain><name>" + name + "</name><devices>";
  for (const auto& [alias, device] : devices_[name]) xml += device;
  return xml + "</devices></domain>";
}

std::string FakeHypervisor::versions() {
  record("versions");
  return "fake hypervisor";
}

}  // namespace runvirt::test

// A recording Hypervisor for unit tests: no libvirt. Every connection a Runtime opens through
// factory() forwards to the same fake, which records each call and can fail the Nth one. With
// serveAgents(), a started domain gets a FakeAgent on its agent channel, as QEMU would run one.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fakes/fake_agent.hpp"
#include "vm/hypervisor.hpp"

namespace runvirt::test {

class FakeHypervisor : public backend::Hypervisor {
 public:
  // A factory for backend::Runtime; the fake must outlive the runtime.
  backend::HypervisorFactory factory();

  // Domains the fake knows about, as if libvirt had them.
  void addDomain(const std::string& name,
                 backend::DomainState state = backend::DomainState::Running,
                 std::optional<backend::VmOwner> owner = std::nullopt);
  bool hasDomain(const std::string& name) const { return domains_.count(name) > 0; }
  backend::DomainState domainState(const std::string& name) const { return domains_.at(name); }

  // The `n`th call (1-based, counting every method) throws Error(message).
  void failCall(std::size_t n, std::string message = "fake hypervisor failure");

  // Runs after destroy() of an existing domain (e.g. to kill a monitor that would exit then).
  std::function<void(const std::string& name)> onDestroy;

  // From now on startTransient() makes a FakeAgent listen on the socket of the domain's agent
  // channel (the <channel> named agent::kChannelName, source mode 'bind'), as QEMU listens
  // there, and runs `script` on it before it returns, so before the host can have connected.
  // destroy() closes that agent's channel, as the guest's end goes away with QEMU.
  void serveAgents(FakeAgent::Options options = {}, std::function<void(FakeAgent&)> script = {});
  // The agent of a domain started since serveAgents(); nullptr for any other.
  FakeAgent* agent(const std::string& name) const;

  // "destroy runvirt-1", "suspend runvirt-1", ... in call order.
  const std::vector<std::string>& calls() const { return calls_; }
  const std::vector<std::string>& connectedUris() const { return uris_; }
  // The XML of every startTransient call.
  const std::vector<std::string>& startedXml() const { return startedXml_; }

  void startTransient(const std::string& xml) override;
  bool destroy(const std::string& name) override;
  bool exists(const std::string& name) override;
  backend::DomainState state(const std::string& name) override;
  void suspend(const std::string& name) override;
  void resume(const std::string& name) override;
  std::vector<backend::DomainInfo> listDomains() override;
  void attachDevice(const std::string& name, const std::string& deviceXml) override;
  bool detachDevice(const std::string& name, const std::string& alias) override;
  std::string liveXml(const std::string& name) override;
  // The devices plugged into `name` since it started, by alias.
  const std::map<std::string, std::string>& pluggedDevices(const std::string& name) {
    return devices_[name];
  }
  std::string versions() override;

 private:
  void record(const std::string& call);
  void requireDomain(const std::string& name) const;

  std::map<std::string, backend::DomainState> domains_;
  std::map<std::string, std::optional<backend::VmOwner>> owners_;
  std::map<std::string, std::map<std::string, std::string>> devices_;  // hot-plugged, by alias
  std::vector<std::string> calls_;
  std::vector<std::string> uris_;
  std::vector<std::string> startedXml_;
  std::map<std::size_t, std::string> failures_;
  std::optional<FakeAgent::Options> agentOptions_;  // set by serveAgents()
  std::function<void(FakeAgent&)> agentScript_;
  std::map<std::string, std::unique_ptr<FakeAgent>> agents_;  // by domain name
};

}  // namespace runvirt::test

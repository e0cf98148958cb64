#include "monitor/network_follower.hpp"

#include <memory>

#include "common/log.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

namespace {

// Docker makes a veth, moves it in, sets its address and routes: one burst of events.
constexpr double kSettleSeconds = 0.1;
constexpr double kRetrySeconds = 1;
constexpr double kConfigureTimeoutSeconds = 30;

}  // namespace

NetworkFollower::NetworkFollower(ContainerNetwork& network, NetlinkWatch& watch, VmSession& session)
    : network_(network), watch_(watch), session_(session) {}

void NetworkFollower::onEvents() {
  if (watch_.drain()) deadline_ = log::monotonicSeconds() + kSettleSeconds;
}

void NetworkFollower::sync() {
  onEvents();
  if (deadline_ == 0) return;
  deadline_ = 0;
  try {
    std::unique_ptr<Hypervisor> hypervisor;
    bool changed = network_.follow(
        [&]() -> Hypervisor& {
          if (!hypervisor) hypervisor = session_.connectHypervisor(session_.libvirtUri);
          return *hypervisor;
        },
        session_.domainName);
    if (!changed) return;
    session_.agent->call(network_.guestNetwork(), kConfigureTimeoutSeconds);
    network_.removeUnplugged();
    log::debug("network: the guest follows the container's namespace");
  } catch (const std::exception& e) {
    log::warn(std::string("network: following the container's namespace: ") + e.what());
    deadline_ = log::monotonicSeconds() + kRetrySeconds;
  }
  // What following did (taps moved in, qdiscs) came back as events: they change nothing, but a
  // change from outside at the same moment must not be lost, so the namespace is read again.
  if (deadline_ == 0 && watch_.drain()) deadline_ = log::monotonicSeconds() + kSettleSeconds;
}

}  // namespace runvirt::backend

#include "network/network_plan.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "network/tap.hpp"
#include "runvirt/error.hpp"

namespace runvirt::backend {

namespace {

using nlohmann::json;

json parseArray(const std::string& text, const char* what) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_array())
    throw Error(std::string("unexpected output of `ip ") + what + "`: not a JSON array");
  return j;
}

std::string stringField(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> addressesOf(const json& link) {
  std::vector<std::string> out;
  auto info = link.find("addr_info");
  if (info == link.end() || !info->is_array()) return out;
  for (const auto& a : *info) {
    std::string family = stringField(a, "family"), scope = stringField(a, "scope"),
                local = stringField(a, "local");
    if ((family != "inet" && family != "inet6") || local.empty()) continue;
    if (!a.contains("prefixlen") || !a["prefixlen"].is_number_unsigned()) continue;
    // Link-local and host addresses are the guest kernel's own business.
    if (scope == "link" || scope == "host") continue;
    out.push_back(local + "/" + std::to_string(a["prefixlen"].get<int>()));
  }
  return out;
}

// Links the guest gets a NIC for: Ethernet, but not a tap or a bridge of the namespace.
bool isBridged(const HostLink& link) {
  return link.type == "ether" && !link.mac.empty() && link.kind != "tun" && link.kind != "bridge";
}

bool isGuestsOwn(const HostRoute& r) {
  if (r.protocol == "kernel") return true;
  return r.ipv6 && (r.destination.rfind("fe80:", 0) == 0 || r.destination.rfind("ff", 0) == 0);
}

agent::Route toGuestRoute(const HostRoute& r) {
  agent::Route route{r.destination, r.gateway, r.device};
  if (route.destination == "default") {
    // "default" means 0.0.0.0/0 unless the gateway is IPv6; without one, say ::/0.
    if (r.ipv6 && r.gateway.empty()) route.destination = "::/0";
  } else if (route.destination.find('/') == std::string::npos) {
    route.destination += r.ipv6 ? "/128" : "/32";
  }
  return route;
}

int routeRank(const agent::Route& r) {
  if (r.destination == "default" || r.destination == "::/0") return 2;
  return r.gateway.empty() ? 0 : 1;
}

}  // namespace

std::vector<HostLink> parseLinks(const std::string& ipAddressJson) {
  std::vector<HostLink> links;
  for (const auto& j : parseArray(ipAddressJson, "address show")) {
    if (!j.is_object()) continue;
    HostLink link;
    link.name = stringField(j, "ifname");
    link.mac = stringField(j, "address");
    link.type = stringField(j, "link_type");
    if (j.contains("mtu") && j["mtu"].is_number_unsigned())
      link.mtu = j["mtu"].get<std::uint32_t>();
    if (j.contains("linkinfo") && j["linkinfo"].is_object())
      link.kind = stringField(j["linkinfo"], "info_kind");
    link.addresses = addressesOf(j);
    if (!link.name.empty()) links.push_back(std::move(link));
  }
  return links;
}

std::vector<HostRoute> parseRoutes(const std::string& ipRouteJson, bool ipv6) {
  std::vector<HostRoute> routes;
  for (const auto& j : parseArray(ipRouteJson, "route show")) {
    if (!j.is_object()) continue;
    HostRoute r;
    r.ipv6 = ipv6;
    r.destination = stringField(j, "dst");
    r.gateway = stringField(j, "gateway");
    r.device = stringField(j, "dev");
    r.protocol = stringField(j, "protocol");
    r.type = stringField(j, "type");
    if (!r.destination.empty())
      routes.push_back(std::move(r));  // multipath routes have no single dev
  }
  return routes;
}

NetworkPlan planNetwork(const std::vector<HostLink>& links, const std::vector<HostRoute>& routes,
                        const std::vector<std::string>& ownTaps) {
  NetworkPlan plan;
  for (const auto& link : links) {
    bool ours = std::find(ownTaps.begin(), ownTaps.end(), link.name) != ownTaps.end();
    if (link.kind == "tun" && isTapName(link.name) && !ours) {
      throw Error("the network namespace is already used by another runvirt container (tap " +
                  quote(link.name) + "): sharing a container's network is not supported");
    }
    if (!isBridged(link)) continue;
    plan.interfaces.push_back({link.name, link.mac, link.mtu, link.addresses});
  }
  auto bridged = [&](const std::string& device) {
    return std::any_of(plan.interfaces.begin(), plan.interfaces.end(),
                       [&](const agent::Interface& i) { return i.name == device; });
  };
  for (const auto& r : routes) {
    if ((!r.type.empty() && r.type != "unicast") || isGuestsOwn(r) || !bridged(r.device)) continue;
    plan.routes.push_back(toGuestRoute(r));
  }
  std::stable_sort(
      plan.routes.begin(), plan.routes.end(),
      [](const agent::Route& a, const agent::Route& b) { return routeRank(a) < routeRank(b); });
  return plan;
}

}  // namespace runvirt::backend

// The container's network namespace carried into the VM: a namespace the test fills the way
// Docker's hook does (a veth with an address and a default route) becomes the guest's
// network; nothing of it is left afterwards. Host networking is refused.
#include <unistd.h>

#include "integration/harness.hpp"

namespace runvirt::test {
namespace {

class Network : public RuntimeTest {
 protected:
  void TearDown() override {
    RuntimeTest::TearDown();
    if (!namespace_.empty()) {
      runCommand({"ip", "netns", "delete", namespace_});
      runCommand({"ip", "link", "delete", hostSide_});
    }
  }

  // /run/netns/<name> with `eth0` (10.201.N.2/24, default via .1, MAC 02:fc:00:00:00:N) whose
  // peer `hostSide_` is 10.201.N.1/24 in the host's namespace.
  std::string makeNamespace() {
    int n = getpid() % 200 + 20;
    namespace_ = "rvit-" + std::to_string(getpid());
    hostSide_ = "vit" + std::to_string(getpid());
    subnet_ = "10.201." + std::to_string(n) + ".";
    mac_ = "02:fc:00:00:00:" + std::to_string(n % 90 + 10);
    std::vector<std::vector<std::string>> steps = {
        {"ip", "netns", "add", namespace_},
        {"ip", "link", "add", hostSide_, "type", "veth", "peer", "name", "eth0", "netns", namespace_},
        {"ip", "addr", "add", subnet_ + "1/24", "dev", hostSide_},
        {"ip", "link", "set", hostSide_, "up"},
        {"ip", "-n", namespace_, "link", "set", "eth0", "address", mac_, "mtu", "1450"},
        {"ip", "-n", namespace_, "addr", "add", subnet_ + "2/24", "dev", "eth0"},
        {"ip", "-n", namespace_, "link", "set", "eth0", "up"},
        {"ip", "-n", namespace_, "link", "set", "lo", "up"},
        {"ip", "-n", namespace_, "route", "add", "default", "via", subnet_ + "1"},
    };
    for (const auto& step : steps) {
      Result r = runCommand(step);
      EXPECT_EQ(r.status, 0) << step[3] << ": " << r.err;
    }
    return "/run/netns/" + namespace_;
  }

  std::string namespace_, hostSide_, subnet_, mac_;
};

TEST_F(Network, JoinedNamespaceBecomesTheGuestsNetwork) {
  std::string path = makeNamespace();
  std::string bundle = makeBundle(
      {"sh", "-c", "cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -4 addr show eth0 | grep inet; "
                   "ip route; ping -c1 -W5 " + subnet_ + "1 | grep -c 'bytes from'"},
      [&](nlohmann::json& c) {
        for (auto& ns : c["linux"]["namespaces"]) {
          if (ns["type"] == "network") ns["path"] = path;
        }
        // busybox ping needs a raw socket.
        c["process"]["capabilities"] = {{"bounding", {"CAP_NET_RAW"}}, {"effective", {"CAP_NET_RAW"}},
                                        {"permitted", {"CAP_NET_RAW"}}};
      });
  Result r = runvirt({"run", "--bundle", bundle, "net"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, mac_ + "\n1450\n    inet " + subnet_ + "2/24 brd " + subnet_ + "255 scope global eth0\n" +
                       "default via " + subnet_ + "1 dev eth0 \n" + subnet_ + "0/24 dev eth0 scope link  src " +
                       subnet_ + "2 \n1\n");
  // The namespace outlives the container: it is left as it was found, and so is the host.
  Result links = runCommand({"ip", "-n", namespace_, "-o", "link"});
  EXPECT_EQ(links.out.find(": rv"), std::string::npos) << links.out;
  Result qdiscs = runCommand({"tc", "-n", namespace_, "qdisc", "show", "dev", "eth0", "ingress"});
  EXPECT_EQ(qdiscs.out, "");
  EXPECT_EQ(runCommand({"ip", "-o", "link"}).out.find(": rv"), std::string::npos);
}

TEST_F(Network, NewNamespaceHasOnlyLoopback) {
  std::string bundle = makeBundle({"ls", "/sys/class/net"});
  Result r = runvirt({"run", "--bundle", bundle, "none"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "lo\n");
}

TEST_F(Network, HostNetworkingIsRefused) {
  const std::string message =
      "host networking is not supported: the container runs in its own VM (use a bridge network)";
  for (std::string how : {"no network namespace", "the host's namespace"}) {
    std::string bundle = makeBundle({"true"}, [&](nlohmann::json& c) {
      auto& namespaces = c["linux"]["namespaces"];
      for (auto it = namespaces.begin(); it != namespaces.end(); ++it) {
        if ((*it)["type"] != "network") continue;
        if (how == "no network namespace") {
          namespaces.erase(it);
        } else {
          (*it)["path"] = "/proc/self/ns/net";  // resolved by the monitor: its caller's
        }
        break;
      }
    });
    Result r = runvirt({"create", "--bundle", bundle, "host"});
    EXPECT_NE(r.status, 0) << how;
    EXPECT_NE(r.err.find("runvirt create failed: " + message), std::string::npos) << how << ": " << r.err;
    EXPECT_NE(lastLogLine().value("msg", "").find(message), std::string::npos) << how;
    EXPECT_FALSE(exists(root_ + "/host")) << how << ": state left behind";
  }
}

}  // namespace
}  // namespace runvirt::test

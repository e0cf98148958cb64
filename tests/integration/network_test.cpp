// The container's network namespace carried into the VM: a namespace the test fills the way
// Docker's hook does (a veth with an address and a default route) becomes the guest's
// network; nothing of it is left afterwards. Host networking is refused.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

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
        {"ip", "link", "add", hostSide_, "type", "veth", "peer", "name", "eth0", "netns",
         namespace_},
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

  // A namespace with only loopback, filled later (as Docker 28 does after `create`).
  std::string makeEmptyNamespace() {
    int n = getpid() % 200 + 20;
    namespace_ = "rvit-" + std::to_string(getpid());
    hostSide_ = "vit" + std::to_string(getpid());
    subnet_ = "10.201." + std::to_string(n) + ".";
    mac_ = "02:fc:00:00:00:" + std::to_string(n % 90 + 10);
    EXPECT_EQ(runCommand({"ip", "netns", "add", namespace_}).status, 0);
    EXPECT_EQ(runCommand({"ip", "-n", namespace_, "link", "set", "lo", "up"}).status, 0);
    return "/run/netns/" + namespace_;
  }

  // Moves a veth peer `name` (address `subnet`2/24, MAC `mac`, MTU 1450, peer `host` at `subnet`1
  // in the host's namespace) into the namespace, as Docker's libnetwork does; `defaultRoute`
  // through it when asked.
  void plugVeth(const std::string& host, const std::string& name, const std::string& subnet,
                const std::string& mac, bool defaultRoute) {
    std::vector<std::vector<std::string>> steps = {
        {"ip", "link", "add", host, "type", "veth", "peer", "name", name, "netns", namespace_},
        {"ip", "addr", "add", subnet + "1/24", "dev", host},
        {"ip", "link", "set", host, "up"},
        {"ip", "-n", namespace_, "link", "set", name, "address", mac, "mtu", "1450"},
        {"ip", "-n", namespace_, "addr", "add", subnet + "2/24", "dev", name},
        {"ip", "-n", namespace_, "link", "set", name, "up"},
    };
    if (defaultRoute)
      steps.push_back({"ip", "-n", namespace_, "route", "add", "default", "via", subnet + "1"});
    for (const auto& step : steps) {
      Result r = runCommand(step);
      EXPECT_EQ(r.status, 0) << step[3] << ": " << r.err;
    }
  }

  // A bundle joining `path`, allowed to ping.
  std::string bundleIn(const std::string& path, const std::vector<std::string>& args) {
    return makeBundle(args, [&](nlohmann::json& c) {
      for (auto& ns : c["linux"]["namespaces"]) {
        if (ns["type"] == "network") ns["path"] = path;
      }
      c["process"]["capabilities"] = {{"bounding", {"CAP_NET_RAW"}},
                                      {"effective", {"CAP_NET_RAW"}},
                                      {"permitted", {"CAP_NET_RAW"}}};
    });
  }

  // Polls `runvirt exec ID sh -c SCRIPT` until it prints `want`; returns the seconds it took (< 0:
  // never within `seconds`).
  double waitForExec(const std::string& id, const std::string& script, const std::string& want,
                     double seconds) {
    auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    while (elapsed() < seconds) {
      if (runvirt({"exec", id, "sh", "-c", script}).out == want) return elapsed();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

  std::string namespace_, hostSide_, subnet_, mac_;
};

TEST_F(Network, JoinedNamespaceBecomesTheGuestsNetwork) {
  std::string path = makeNamespace();
  std::string bundle = makeBundle(
      {"sh", "-c",
       "cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -4 addr show eth0 | grep inet; "
       "ip route; ping -c1 -W5 " +
           subnet_ + "1 | grep -c 'bytes from'"},
      [&](nlohmann::json& c) {
        for (auto& ns : c["linux"]["namespaces"]) {
          if (ns["type"] == "network") ns["path"] = path;
        }
        // busybox ping needs a raw socket.
        c["process"]["capabilities"] = {{"bounding", {"CAP_NET_RAW"}},
                                        {"effective", {"CAP_NET_RAW"}},
                                        {"permitted", {"CAP_NET_RAW"}}};
      });
  Result r = runvirt({"run", "--bundle", bundle, "net"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, mac_ + "\n1450\n    inet " + subnet_ + "2/24 brd " + subnet_ +
                       "255 scope global eth0\n" + "default via " + subnet_ + "1 dev eth0 \n" +
                       subnet_ + "0/24 dev eth0 scope link  src " + subnet_ + "2 \n1\n");
  // The namespace outlives the container: it is left as it was found, and so is the host.
  Result links = runCommand({"ip", "-n", namespace_, "-o", "link"});
  EXPECT_EQ(links.out.find(": rv"), std::string::npos) << links.out;
  Result qdiscs = runCommand({"tc", "-n", namespace_, "qdisc", "show", "dev", "eth0", "ingress"});
  EXPECT_EQ(qdiscs.out, "");
  EXPECT_EQ(runCommand({"ip", "-o", "link"}).out.find(": rv"), std::string::npos);
}

// Docker 28 creates the namespace, calls create, and only then moves its veth in: the NIC is
// plugged into the running VM at `start`, before the workload runs.
TEST_F(Network, InterfacesThatArriveAfterCreateArePluggedInAtStart) {
  std::string path = makeEmptyNamespace();
  std::string bundle = bundleIn(
      path,
      {"sh", "-c",
       "cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -4 addr show eth0 | grep inet; "
       "ip route; ping -c1 -W5 " +
           subnet_ + "1 | grep -c 'bytes from'; sleep 600"});
  ASSERT_EQ(runvirt({"create", "--bundle", bundle, "late"}).status, 0);
  plugVeth(hostSide_, "eth0", subnet_, mac_, true);
  ASSERT_EQ(runvirt({"start", "late"}).status, 0);
  std::string expected = mac_ + "\n1450\n    inet " + subnet_ + "2/24 brd " + subnet_ +
                         "255 scope global eth0\n" + "default via " + subnet_ + "1 dev eth0 \n" +
                         subnet_ + "0/24 dev eth0 scope link  src " + subnet_ + "2 \n1\n";
  // The workload's output goes to the monitor's stdout, the log of `create`: read it from there.
  double took = -1;
  for (int i = 0; i < 100 && took < 0; ++i) {
    // The host reaches the workload too (busybox-static is a test dependency; iputils is not).
    Result ping = runCommand({"/bin/busybox", "ping", "-c1", "-W1", subnet_ + "2"});
    if (ping.status == 0) took = i;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(took, 0) << "the host cannot reach the container";
  Result seen = runvirt(
      {"exec", "late", "sh", "-c",
       "cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -4 addr show eth0 | grep inet; "
       "ip route; ping -c1 -W5 " +
           subnet_ + "1 | grep -c 'bytes from'"});
  EXPECT_EQ(seen.out, expected) << seen.err;
  EXPECT_EQ(runvirt({"delete", "--force", "late"}).status, 0);
}

// `docker network connect` / `disconnect` on a running container: an interface that comes is
// plugged in and usable, one that goes is unplugged, and nothing is left of it.
TEST_F(Network, InterfacesFollowTheNamespaceWhileRunning) {
  std::string path = makeNamespace();
  std::string bundle = bundleIn(path, {"sleep", "600"});
  ASSERT_EQ(runvirt({"create", "--bundle", bundle, "follow"}).status, 0);
  ASSERT_EQ(runvirt({"start", "follow"}).status, 0);
  std::string second = "10.202." + std::to_string(getpid() % 200 + 20) + ".";
  std::string secondHost = "vjt" + std::to_string(getpid());
  auto connected = std::chrono::steady_clock::now();
  plugVeth(secondHost, "eth1", second, "02:fc:00:00:01:01", false);
  double usable = waitForExec(
      "follow", "ping -c1 -W1 " + second + "1 >/dev/null && ip -4 -o addr show eth1 | wc -l", "1\n",
      30);
  double fromConnect =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - connected).count();
  std::printf("[ network  ] a connected interface was usable in the guest after %.2f s\n",
              fromConnect);
  EXPECT_GE(usable, 0) << "eth1 never became usable in the guest";
  EXPECT_EQ(runvirt({"exec", "follow", "cat", "/sys/class/net/eth1/address"}).out,
            "02:fc:00:00:01:01\n");
  // Disconnect: Docker deletes the veth.
  runCommand({"ip", "link", "delete", secondHost});
  double gone = waitForExec("follow", "ls /sys/class/net | grep -c eth1", "0\n", 15);
  EXPECT_GE(gone, 0) << "eth1 is still in the guest";
  EXPECT_EQ(runvirt({"exec", "follow", "ping", "-c1", "-W5", subnet_ + "1"}).status, 0)
      << "eth0 broke";
  Result taps = runCommand({"ip", "-n", namespace_, "-o", "link"});
  std::size_t count = 0;
  for (auto at = taps.out.find(": rv"); at != std::string::npos; at = taps.out.find(": rv", at + 1))
    ++count;
  EXPECT_EQ(count, 1u) << "only eth0's tap may be left: " << taps.out;
  EXPECT_EQ(runvirt({"delete", "--force", "follow"}).status, 0);
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
    EXPECT_NE(r.err.find("runvirt create failed: " + message), std::string::npos)
        << how << ": " << r.err;
    EXPECT_NE(lastLogLine().value("msg", "").find(message), std::string::npos) << how;
    EXPECT_FALSE(exists(root_ + "/host")) << how << ": state left behind";
  }
}

}  // namespace
}  // namespace runvirt::test

// Container networking through Docker, runc vs runvirt: the default bridge, published ports,
// user-defined networks with names resolved by Docker's embedded DNS, --network none and
// --network host. After each test, nothing of runvirt's containers is left on the host.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "docker/harness.hpp"

namespace runvirt::dockertest {
namespace {

// Where Docker's shim keeps runvirt's state (its --root): state.json names the domain, the VM
// directory and the taps of a container.
constexpr const char* kRuntimeRoot = "/run/docker/runtime-runc/moby";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A TCP port nothing listens on right now.
int freePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t length = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &length);
  close(s);
  return ntohs(a.sin_port);
}

// Connects to 127.0.0.1:port and reads until the server closes; "" when nothing came.
std::string fetch(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    char buf[256];
    pollfd p{s, POLLIN, 0};
    while (poll(&p, 1, 2000) > 0) {
      ssize_t n = read(s, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(s);
  return out;
}

// A shell command printing "reached" once a ping to TARGET ("ADDRESS" or "-6 ADDRESS") was
// answered; a few tries, so a slow first neighbour lookup under load does not count as a failure.
std::string reachable(const std::string& target) {
  return "for i in 1 2 3; do ping -c1 -W5 " + target +
         " >/dev/null && { echo reached; break; }; done";
}

class Network : public DockerTest {
 protected:
  void TearDown() override {
    DockerTest::TearDown();
    for (const auto& n : networks_) docker({"network", "rm", n});
    for (const auto& record : runvirtRecords_) expectNothingLeft(record);
  }

  // `docker run -d` of busybox ARGS; for runvirt, its state record is kept for TearDown.
  std::string start(const std::string& runtime, const std::vector<std::string>& options,
                    const std::vector<std::string>& args) {
    Result r;
    std::string n = startBusybox(runtime, options, args, &r);
    if (runtime == "runvirt" && r.status == 0) {
      auto record = nlohmann::json::parse(
          readFile(std::string(kRuntimeRoot) + "/" + trim(r.out) + "/state.json"), nullptr, false);
      EXPECT_FALSE(record.is_discarded()) << "no runvirt state for " << n;
      if (!record.is_discarded()) runvirtRecords_.push_back(record);
    }
    return n;
  }

  std::string inspect(const std::string& n, const std::string& format) {
    return trim(docker({"inspect", "-f", format, n}).out);
  }

  std::string waitForLog(const std::string& n, const std::string& text) {
    for (int i = 0; i < 150; ++i) {
      std::string logs = docker({"logs", n}).out;
      if (logs.find(text) != std::string::npos) return logs;
      usleep(200000);
    }
    ADD_FAILURE() << n << " never logged " << text;
    return "";
  }

  std::string userNetwork(const std::vector<std::string>& options = {}) {
    std::string n =
        "rvtest-net-" + std::to_string(getpid()) + "-" + std::to_string(networks_.size());
    std::vector<std::string> args = {"network", "create"};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back(n);
    Result r = docker(args);
    EXPECT_EQ(r.status, 0) << r.err;
    networks_.push_back(n);
    return n;
  }

  // Nothing of a removed runvirt container on the host: no domain, VM directory, mount or tap.
  void expectNothingLeft(const nlohmann::json& record) {
    std::string domain = record.value("domainName", ""), vmDir = record.value("vmDir", "");
    EXPECT_EQ(
        command({"virsh", "-c", "qemu:///system", "list", "--all", "--name"}).out.find(domain),
        std::string::npos)
        << "domain " << domain << " left behind";
    EXPECT_NE(access(vmDir.c_str(), F_OK), 0) << vmDir << " left behind";
    EXPECT_EQ(readFile("/proc/self/mountinfo").find(vmDir), std::string::npos)
        << "mount under " << vmDir;
    EXPECT_NE(access((std::string(kRuntimeRoot) + "/" + record.value("id", "")).c_str(), F_OK), 0);
    std::string links = command({"ip", "-o", "link"}).out;
    for (const auto& tap : record.value("taps", std::vector<std::string>{})) {
      EXPECT_EQ(links.find(": " + tap + ":"), std::string::npos) << "tap " << tap << " left behind";
    }
  }

  std::vector<std::string> networks_;
  std::vector<nlohmann::json> runvirtRecords_;
};

TEST_F(Network, DefaultBridgeGivesTheContainerItsDockerAddressAndRoute) {
  for (const auto& runtime : kRuntimes) {
    std::string n = start(runtime, {},
                          {"sh", "-c",
                           "ip -4 -o addr show eth0; ip route; "
                           "cat /sys/class/net/eth0/address; echo done; sleep 600"});
    std::string logs = waitForLog(n, "done");
    std::string ip = inspect(n, "{{.NetworkSettings.IPAddress}}");
    std::string prefix = inspect(n, "{{.NetworkSettings.IPPrefixLen}}");
    std::string gateway = inspect(n, "{{.NetworkSettings.Gateway}}");
    std::string mac = inspect(n, "{{.NetworkSettings.MacAddress}}");
    ASSERT_FALSE(ip.empty()) << runtime;
    EXPECT_NE(logs.find("inet " + ip + "/" + prefix + " "), std::string::npos)
        << runtime << ": " << logs;
    EXPECT_NE(logs.find("default via " + gateway + " dev eth0"), std::string::npos)
        << runtime << ": " << logs;
    EXPECT_NE(logs.find(mac + "\n"), std::string::npos) << runtime << ": " << logs;
    // Only the container's interfaces: no tap, no second NIC.
    EXPECT_EQ(logs.find("2: eth1"), std::string::npos) << logs;
  }
}

std::string bridgeGateway();

// `docker network connect` and `disconnect` on a running container: under runc the interface
// is there (and gone) at once; under runvirt a NIC is plugged into (out of) the VM. Both must
// end the same: eth1 with the network's address, reaching its gateway; then no eth1, eth0 fine.
TEST_F(Network, ConnectAndDisconnectWhileRunningLikeRunc) {
  std::string net = userNetwork();
  std::string gateway = trim(
      docker({"network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", net}).out);
  ASSERT_FALSE(gateway.empty());
  auto poll = [](const std::function<bool()>& done, double seconds,
                 std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now()) {
    for (;;) {
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (done()) return elapsed;
      if (elapsed > seconds) return -1.0;
      usleep(100000);
    }
  };
  for (const auto& runtime : kRuntimes) {
    std::string n = start(runtime, {}, {"sleep", "600"});
    auto connecting = std::chrono::steady_clock::now();
    ASSERT_EQ(docker({"network", "connect", net, n}).status, 0) << runtime;
    std::string address =
        inspect(n, "{{(index .NetworkSettings.Networks \"" + net + "\").IPAddress}}");
    double usable = poll(
        [&] {
          return docker({"exec", n, "sh", "-c",
                         "ip -4 -o addr show eth1 | grep -q ' " + address + "/' && " +
                             reachable(gateway)})
                     .out == "reached\n";
        },
        30, connecting);
    std::printf("[ network  ] %s: usable %.2f s after `docker network connect` began\n",
                runtime.c_str(), usable);
    EXPECT_GE(usable, 0) << runtime << ": eth1 with " << address << " never reached " << gateway;
    ASSERT_EQ(docker({"network", "disconnect", net, n}).status, 0) << runtime;
    double gone = poll(
        [&] {
          return docker({"exec", n, "ls", "/sys/class/net"}).out == "eth0\nlo\n";
        },
        15);
    EXPECT_GE(gone, 0) << runtime << ": eth1 is still there: "
                       << docker({"exec", n, "ls", "/sys/class/net"}).out;
    EXPECT_EQ(docker({"exec", n, "sh", "-c", reachable(bridgeGateway())}).out, "reached\n")
        << runtime;
  }
}

// The address of Docker's default bridge on the host (docker0), the containers' gateway.
std::string bridgeGateway() {
  std::string out = command({"ip", "-4", "-o", "addr", "show", "docker0"}).out;
  auto at = out.find("inet ");
  if (at == std::string::npos) return "";
  at += 5;
  return out.substr(at, out.find('/', at) - at);
}

TEST_F(Network, OutgoingTrafficReachesTheBridgeGateway) {
  std::string gateway = bridgeGateway();
  ASSERT_FALSE(gateway.empty());
  Result r = expectSame({"busybox", "sh", "-c", reachable(gateway)});
  EXPECT_EQ(r.out, "reached\n") << r.err;

  // TCP from the container to a server on the host, at the bridge's address.
  int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, gateway.c_str(), &a.sin_addr);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t length = sizeof a;
  getsockname(server, reinterpret_cast<sockaddr*>(&a), &length);
  listen(server, 4);
  std::thread accepter([server] {
    for (int i = 0; i < 2; ++i) {
      pollfd p{server, POLLIN, 0};
      if (poll(&p, 1, 60000) <= 0) return;
      int c = accept(server, nullptr, nullptr);
      [[maybe_unused]] ssize_t n = write(c, "hello from the host\n", 20);
      close(c);
    }
  });
  std::string port = std::to_string(ntohs(a.sin_port));
  r = expectSame({"busybox", "nc", gateway, port});
  EXPECT_EQ(r.out, "hello from the host\n") << r.err;
  accepter.join();
  close(server);
}

TEST_F(Network, PublishedPortIsReachableFromTheHost) {
  for (const auto& runtime : kRuntimes) {
    int port = freePort();
    start(runtime, {"-p", std::to_string(port) + ":8080"},
          {"sh", "-c", "while true; do echo hi from " + runtime + " | nc -l -p 8080; done"});
    // docker-proxy accepts at once; the answer comes once the container listens.
    std::string got;
    for (int i = 0; i < 120 && got.empty(); ++i) {
      got = fetch(port);
      if (got.empty()) usleep(250000);
    }
    EXPECT_EQ(got, "hi from " + runtime + "\n") << runtime << " on port " << port;
  }
}

// busybox nslookup asks A and AAAA with ids from the clock; in the guest (jiffies clock) the two
// ids can be equal and busybox then drops one answer and waits 5 s, so lookups here ask for A only.
TEST_F(Network, UserDefinedNetworkReachesContainersByName) {
  std::string net = userNetwork();
  std::string runcServer = start("runc", {"--network", net}, {"sleep", "600"});
  std::string runvirtServer = start("runvirt", {"--network", net}, {"sleep", "600"});
  // Each client resolves both servers through Docker's embedded DNS (127.0.0.11) and pings them.
  std::string script;
  for (const auto& server : {runcServer, runvirtServer}) {
    script += "if nslookup -type=a " + server + " | grep -q '^Address: '; then echo -n '" + server +
              " '; " + reachable(server) + "; fi; ";
  }
  Result r = expectSame({"--network", net, "busybox", "sh", "-c", script});
  EXPECT_EQ(r.out, runcServer + " reached\n" + runvirtServer + " reached\n") << r.err;
}

TEST_F(Network, EmbeddedDnsForwardsOtherNamesLikeUnderRunc) {
  // Names Docker does not know itself it asks the host's servers about, from the container's
  // namespace on the host: the answers must reach it there, not the VM. Whatever the host's
  // servers say (an address, or no such name), both runtimes must see the same.
  std::string net = userNetwork();
  for (const char* name : {"deb.debian.org", "no-such-name.invalid"}) {
    Result r = expectSame(
        {"--network", net, "busybox", "sh", "-c",
         std::string("nslookup -type=a ") + name + " | grep -E '^Address: |find'; echo $?"});
  }
}

TEST_F(Network, Ipv6AddressAndDefaultRouteAsUnderRunc) {
  std::string net =
      userNetwork({"--ipv6", "--subnet", "10.213.0.0/24", "--subnet", "fd00:7276:6e65::/64"});
  Result r = expectSame({"--network", net, "busybox", "sh", "-c",
                         "ip -6 addr show eth0 | grep global; ip -6 route | grep default; " +
                             reachable("-6 fd00:7276:6e65::1")});
  EXPECT_NE(r.out.find("inet6 fd00:7276:6e65::"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("default via fd00:7276:6e65::1 dev eth0"), std::string::npos) << r.out;
}

TEST_F(Network, NetworkNoneHasOnlyLoopback) {
  Result r = expectSame({"--network", "none", "busybox", "ls", "/sys/class/net"});
  EXPECT_EQ(r.out, "lo\n") << r.err;
}

TEST_F(Network, HostNetworkIsRefusedWithAClearMessage) {
  Result runc = docker({"run", "--rm", "--runtime=runc", "--name", name("runc"), "--network",
                        "host", "busybox", "true"});
  EXPECT_EQ(runc.status, 0) << runc.err;
  Result runvirt = docker({"run", "--rm", "--runtime=runvirt", "--name", name("runvirt"),
                           "--network", "host", "busybox", "true"});
  EXPECT_NE(runvirt.status, 0);
  EXPECT_NE(
      runvirt.err.find(
          "runvirt create failed: host networking is not supported: the container runs in its "
          "own VM (use a bridge network)"),
      std::string::npos)
      << runvirt.err;
}

TEST_F(Network, EtcFilesAreDockersOnEveryNetwork) {
  // The container's own address differs from run to run: each side replaces it with IP.
  const std::string script =
      "ip=$(ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1); "
      "sed \"s/$ip/IP/g\" /etc/hosts; cat /etc/resolv.conf /etc/hostname";
  std::string net = userNetwork();
  for (const std::vector<std::string>& network : {std::vector<std::string>{}, {"--network", net}}) {
    std::vector<std::string> args = network;
    for (std::string a : {"--hostname", "rvtest-host", "--add-host", "extra.example:10.9.8.7",
                          "busybox", "sh", "-c"}) {
      args.push_back(a);
    }
    args.push_back(script);
    Result r = expectSame(args);
    EXPECT_NE(r.out.find("IP\trvtest-host"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("10.9.8.7\textra.example"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace runvirt::dockertest

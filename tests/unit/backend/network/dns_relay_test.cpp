// libvirt-backend/network/dns_relay.cpp: which containers need the relay, and the host relay
// against a fake DNS server on 127.0.0.1 (UDP, and TCP for truncated answers).
#include "network/dns_relay.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/log.hpp"
#include "runvirt/agent/dns_frames.hpp"
#include "runvirt/unique_fd.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

namespace dns = agent::dns;

TEST(DnsRelay, ResolvConfNamingTheEmbeddedServer) {
  EXPECT_TRUE(namesNameserver("nameserver 127.0.0.11\noptions ndots:0\n", "127.0.0.11"));
  EXPECT_TRUE(namesNameserver("search x\n  nameserver\t127.0.0.11  \n", "127.0.0.11"));
  EXPECT_FALSE(namesNameserver("nameserver 10.255.255.53\n", "127.0.0.11"));
  EXPECT_FALSE(namesNameserver("# nameserver 127.0.0.11\n", "127.0.0.11"));
  EXPECT_FALSE(namesNameserver("nameserver 127.0.0.110\n", "127.0.0.11"));
  EXPECT_FALSE(namesNameserver("", "127.0.0.11"));
}

TEST(DnsRelay, DecidedByTheContainersResolvConfMount) {
  test::TempDir dir;
  test::writeFile(dir / "user-net", "nameserver 127.0.0.11\noptions ndots:0\n");
  test::writeFile(dir / "bridge", "nameserver 10.255.255.53\n");
  test::writeFile(dir / "bundle/relative", "nameserver 127.0.0.11\n");
  auto specWith = [](const std::string& source) {
    oci::Spec spec;
    spec.mounts.push_back({"/etc/hosts", "bind", "/nonexistent", {"rbind"}});
    spec.mounts.push_back({"/etc/resolv.conf", "bind", source, {"rbind", "rprivate"}});
    return spec;
  };
  EXPECT_TRUE(usesEmbeddedDns(specWith(dir / "user-net"), dir / "bundle"));
  EXPECT_FALSE(usesEmbeddedDns(specWith(dir / "bridge"), dir / "bundle"));
  EXPECT_TRUE(usesEmbeddedDns(specWith("relative"), dir / "bundle"));
  EXPECT_FALSE(usesEmbeddedDns(specWith(dir / "missing"), dir / "bundle"));
  EXPECT_FALSE(usesEmbeddedDns(oci::Spec{}, dir / "bundle"));
}

// The spec names the file: a bind source of /dev/zero used to be read until memory ran out. Now
// the relay is not started and a warning names the file.
TEST(DnsRelay, AResolvConfThatNeverEndsIsReadOnlyUpToItsBound) {
  test::TempDir dir;
  oci::Spec spec;
  spec.mounts.push_back({"/etc/resolv.conf", "bind", "/dev/zero", {"rbind"}});
  std::string outcome = test::inChildWithMemoryLimit([&] {
    log::configure({dir / "log", log::Format::Text, false});
    bool relay = usesEmbeddedDns(spec, dir / "bundle");
    return std::string(relay ? "relay" : "no relay") + "; " + test::readFile(dir / "log");
  });
  EXPECT_TRUE(test::contains(outcome, "no relay; ")) << outcome;
  EXPECT_TRUE(
      test::contains(outcome, "DNS relay not started: read /dev/zero: larger than 1048576 bytes"));
}

std::string queryFor(std::uint16_t id, char marker) {
  std::string q(12, '\0');
  q[0] = char(id >> 8);
  q[1] = char(id & 0xff);
  q[5] = 1;
  q += std::string("\x01") + marker + std::string("\0\0\x01\0\x01", 5);
  return q;
}

std::string answerTo(const std::string& query, std::size_t padding, bool truncated) {
  std::string a = query;
  a[2] = char(0x80 | (truncated ? 0x02 : 0));
  return a + std::string(padding, 'a');
}

// A DNS server on 127.0.0.1: "s" gets a small answer over UDP; "b" a truncated one over UDP
// and a 3000-byte one over TCP.
class FakeServer {
 public:
  FakeServer() {
    udp_ = UniqueFd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    tcp_ = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    address_.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &address_.sin_addr);
    EXPECT_EQ(bind(udp_.get(), reinterpret_cast<sockaddr*>(&address_), sizeof address_), 0);
    socklen_t length = sizeof address_;
    getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&address_), &length);
    EXPECT_EQ(bind(tcp_.get(), reinterpret_cast<sockaddr*>(&address_), sizeof address_), 0);
    listen(tcp_.get(), 4);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
  }
  const sockaddr_in& address() const { return address_; }

 private:
  void serve() {
    char buf[4096];
    while (!stop_) {
      pollfd fds[2] = {{udp_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}};
      if (poll(fds, 2, 50) <= 0) continue;
      if (fds[0].revents) {
        sockaddr_in from{};
        socklen_t length = sizeof from;
        ssize_t n =
            recvfrom(udp_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &length);
        std::string q(buf, std::size_t(n));
        std::string a = answerTo(q, 10, q[13] == 'b');
        sendto(udp_.get(), a.data(), a.size(), 0, reinterpret_cast<sockaddr*>(&from), length);
      }
      if (fds[1].revents) {
        UniqueFd conn(accept(tcp_.get(), nullptr, nullptr));
        dns::FrameDecoder decoder;
        std::optional<std::string> q;
        while (!q) {
          ssize_t n = read(conn.get(), buf, sizeof buf);
          if (n <= 0) break;
          decoder.feed({buf, std::size_t(n)});
          q = decoder.next();
        }
        if (q) {
          std::string frame = dns::encodeFrame(answerTo(*q, 3000, false));
          [[maybe_unused]] ssize_t w = write(conn.get(), frame.data(), frame.size());
        }
      }
    }
  }
  UniqueFd udp_, tcp_;
  sockaddr_in address_{};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string readFrame(int fd) {
  dns::FrameDecoder decoder;
  char buf[8192];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return "timeout";
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return "eof";
    decoder.feed({buf, std::size_t(n)});
    if (auto m = decoder.next()) return *m;
  }
}

TEST(DnsRelay, RelaysOverUdpAndRefetchesTruncatedAnswersOverTcp) {
  FakeServer server;
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd guest(pair[0]), host(pair[1]);
  std::thread relay([&] { relayDns(host.get(), server.address()); });

  std::string small = queryFor(7, 's');
  std::string frames = dns::encodeFrame(small) + dns::encodeFrame(queryFor(8, 'b'));
  ASSERT_EQ(write(guest.get(), frames.data(), frames.size()), ssize_t(frames.size()));
  std::string first = readFrame(guest.get()), second = readFrame(guest.get());
  if (dns::messageId(first) == 8) std::swap(first, second);
  EXPECT_EQ(first, answerTo(small, 10, false));
  EXPECT_EQ(dns::messageId(second), 8);
  EXPECT_FALSE(dns::isTruncated(second));
  EXPECT_EQ(second.size(), queryFor(8, 'b').size() + 3000);

  guest.reset();  // end of file: the VM is gone, the relay returns
  relay.join();
}

}  // namespace
}  // namespace runvirt::backend

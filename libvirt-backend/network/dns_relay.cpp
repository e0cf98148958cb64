#include "network/dns_relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "runvirt/agent/dns_frames.hpp"
#include "runvirt/agent/protocol.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/error.hpp"
#include "common/log.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

namespace dns = agent::dns;

constexpr double kConnectWait = 120;   // the domain may take this long to start
constexpr double kQueryLifetime = 10;  // a query unanswered this long is forgotten
constexpr double kTcpTimeout = 2;
constexpr std::size_t kMaxPending = 1024;
// The spec names the file (a bind source of /dev/zero would never end): far above any real one.
constexpr std::size_t kMaxResolvConfBytes = 1u << 20;

struct PendingQuery {
  std::string query;
  double since = 0;
};

void writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throwErrno("write to the DNS port");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Waits for `events` on `fd` until `deadline`; false on timeout.
bool waitFor(int fd, short events, double deadline) {
  for (;;) {
    int ms = static_cast<int>((deadline - log::monotonicSeconds()) * 1000);
    if (ms <= 0) return false;
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, ms);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

// One query over TCP (RFC 7766 framing, the same as the port's); nullopt when that fails.
std::optional<std::string> queryOverTcp(const sockaddr_in& upstream, const std::string& query) {
  double deadline = log::monotonicSeconds() + kTcpTimeout;
  UniqueFd sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock) return std::nullopt;
  if (connect(sock.get(), reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream) < 0 &&
      errno != EINPROGRESS) {
    return std::nullopt;
  }
  if (!waitFor(sock.get(), POLLOUT, deadline)) return std::nullopt;
  std::string frame = dns::encodeFrame(query);
  if (send(sock.get(), frame.data(), frame.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(frame.size())) {
    return std::nullopt;
  }
  dns::FrameDecoder decoder;
  char buf[16384];
  while (waitFor(sock.get(), POLLIN, deadline)) {
    ssize_t n = recv(sock.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    decoder.feed({buf, static_cast<std::size_t>(n)});
    if (auto answer = decoder.next()) return answer;
  }
  return std::nullopt;
}

class Relay {
 public:
  Relay(int channel, const sockaddr_in& upstream) : channel_(channel), upstream_(upstream) {
    udp_ = UniqueFd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!udp_) throwErrno("socket");
    if (connect(udp_.get(), reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream) < 0) {
      throwErrno("connect to the DNS server");
    }
  }

  void run() {
    for (;;) {
      pollfd fds[2] = {{channel_, POLLIN, 0}, {udp_.get(), POLLIN, 0}};
      if (poll(fds, 2, 1000) < 0 && errno != EINTR) throwErrno("poll");
      if (fds[0].revents && !readQueries()) return;
      if (fds[1].revents) readAnswers();
      forgetOldQueries();
    }
  }

 private:
  // False at end of file: the VM is gone.
  bool readQueries() {
    char buf[65536];
    ssize_t n = read(channel_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    decoder_.feed({buf, static_cast<std::size_t>(n)});
    while (auto query = decoder_.next()) {
      if (!dns::hasHeader(*query) || dns::isResponse(*query)) continue;
      if (pending_.size() >= kMaxPending) pending_.erase(pending_.begin());
      // The agent gives every query in flight its own id, so the id finds the answer's query.
      pending_[dns::messageId(*query)] = {*query, log::monotonicSeconds()};
      // Lost like a datagram when the server is not there (ECONNREFUSED): the client retries.
      send(udp_.get(), query->data(), query->size(), MSG_DONTWAIT);
    }
    return true;
  }

  void readAnswers() {
    char buf[65536];
    for (;;) {
      ssize_t n = recv(udp_.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != ECONNREFUSED) return;  // EAGAIN: all read
      if (n < 0) continue;
      std::string answer(buf, static_cast<std::size_t>(n));
      if (!dns::hasHeader(answer)) continue;
      auto it = pending_.find(dns::messageId(answer));
      if (it != pending_.end()) {
        // The agent truncates again for UDP clients that cannot take the whole answer.
        if (dns::isTruncated(answer)) {
          if (auto full = queryOverTcp(upstream_, it->second.query)) answer = std::move(*full);
        }
        pending_.erase(it);
      }
      writeAll(channel_, dns::encodeFrame(answer));
    }
  }

  void forgetOldQueries() {
    double now = log::monotonicSeconds();
    std::erase_if(pending_,
                  [&](const auto& entry) { return now - entry.second.since > kQueryLifetime; });
  }

  int channel_;
  sockaddr_in upstream_;
  UniqueFd udp_;
  dns::FrameDecoder decoder_;
  std::map<std::uint16_t, PendingQuery> pending_;
};

UniqueFd connectWhenReady(const std::string& socketPath) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof address.sun_path)
    throw Error("socket path too long: " + socketPath);
  std::strcpy(address.sun_path, socketPath.c_str());
  double deadline = log::monotonicSeconds() + kConnectWait;
  for (;;) {
    UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throwErrno("socket");
    if (connect(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0)
      return sock;
    if ((errno != ENOENT && errno != ECONNREFUSED) || log::monotonicSeconds() > deadline) {
      throwErrno("connect to " + quote(socketPath));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Runs in the forked child; never returns.
[[noreturn]] void runRelayProcess(const std::string& socketPath, pid_t parent) {
  // Dies with the monitor, also when it is SIGKILLed; it may have died before this call.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Nothing of the monitor's: no stdio pipe of the shim's, no sync pipe of `create`'s.
  syscall(SYS_close_range, 3, ~0U, 0);
  int devNull = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 2; ++fd) dup2(devNull, fd);
  if (devNull > 2) close(devNull);
  log::configure(log::options());
  try {
    UniqueFd channel = connectWhenReady(socketPath);
    sockaddr_in upstream{};
    upstream.sin_family = AF_INET;
    upstream.sin_port = htons(53);
    inet_pton(AF_INET, std::string(agent::kDnsAddress).c_str(), &upstream.sin_addr);
    relayDns(channel.get(), upstream);
  } catch (const std::exception& e) {
    log::warn(std::string("DNS relay: ") + e.what());
  }
  _exit(0);
}

}  // namespace

bool namesNameserver(std::string_view resolvConf, std::string_view address) {
  std::istringstream lines{std::string(resolvConf)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string keyword, value;
    if (words >> keyword >> value && keyword == "nameserver" && value == address) return true;
  }
  return false;
}

bool usesEmbeddedDns(const oci::Spec& spec, const std::string& bundle) {
  for (const auto& mount : spec.mounts) {
    if (mount.destination != "/etc/resolv.conf" || mount.source.empty()) continue;
    std::string source = mount.source[0] == '/' ? mount.source : bundle + "/" + mount.source;
    try {
      return namesNameserver(readFileBounded(source, kMaxResolvConfBytes), agent::kDnsAddress);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) log::warn("DNS relay not started: " + e.message());
      return false;
    }
  }
  return false;
}

void relayDns(int channel, const sockaddr_in& upstream) { Relay(channel, upstream).run(); }

pid_t startDnsRelay(const std::string& socketPath) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throwErrno("fork the DNS relay");
  if (pid == 0) runRelayProcess(socketPath, parent);
  return pid;
}

}  // namespace runvirt::backend

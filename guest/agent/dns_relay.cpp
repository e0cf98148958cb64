#include "dns_relay.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "log.hpp"
#include "runvirt/error.hpp"

namespace runvirt::agent {

namespace {

constexpr auto kQueryLifetime = std::chrono::seconds(10);
constexpr auto kConnectionIdle = std::chrono::seconds(10);
constexpr auto kPortRetry = std::chrono::milliseconds(100);  // after the host end went away
constexpr auto kTick = std::chrono::seconds(1);
constexpr std::size_t kMaxPending = 512;
constexpr std::size_t kMaxConnections = 32;
constexpr std::size_t kMaxBuffered = 256u << 10;
constexpr int kMaxDatagramsPerRound = 64;

UniqueFd boundSocket(int type, const sockaddr_in& address) {
  UniqueFd sock(::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!sock) throwErrno("socket");
  int on = 1;
  ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throwErrno("bind the DNS relay");
  }
  return sock;
}

bool wouldBlock() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

}  // namespace

DnsRelay::DnsRelay(UniqueFd port, const sockaddr_in& listen)
    : port_(std::move(port)),
      udp_(boundSocket(SOCK_DGRAM, listen)),
      listener_(boundSocket(SOCK_STREAM, listen)) {
  if (::listen(listener_.get(), 16) != 0) throwErrno("listen for DNS over TCP");
}

void DnsRelay::addToPoll(PollSet& set, Clock::time_point now) {
  expire(now);
  if (now >= portRetryAt_) {
    auto events = static_cast<short>(POLLIN | (toHost_.empty() ? 0 : POLLOUT));
    set.add(port_.get(), events, [this](short r) { onPort(r); });
  }
  set.add(udp_.get(), POLLIN, [this](short) { onUdp(); });
  if (connections_.size() < kMaxConnections)
    set.add(listener_.get(), POLLIN, [this](short) { onAccept(); });
  for (auto& [id, connection] : connections_) {
    auto events = static_cast<short>((connection.readClosed ? 0 : POLLIN) |
                                     (connection.out.empty() ? 0 : POLLOUT));
    set.add(connection.fd.get(), events, [this, id = id](short r) { onConnection(id, r); });
  }
}

int DnsRelay::msUntilNextDeadline(Clock::time_point now) const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  int ms = -1;
  if (now < portRetryAt_) ms = int(duration_cast<milliseconds>(portRetryAt_ - now).count()) + 1;
  if (!pending_.empty() || !connections_.empty()) {
    int tick = int(duration_cast<milliseconds>(kTick).count());
    ms = ms < 0 ? tick : std::min(ms, tick);
  }
  return ms;
}

void DnsRelay::onPort(short revents) {
  if ((revents & POLLOUT) && !toHost_.empty()) {
    ssize_t n = ::write(port_.get(), toHost_.data(), toHost_.size());
    if (n > 0) toHost_.erase(0, std::size_t(n));
  }
  if (!(revents & (POLLIN | POLLHUP | POLLERR))) return;
  char buffer[65536];
  ssize_t n = ::read(port_.get(), buffer, sizeof buffer);
  if (n < 0 && wouldBlock()) return;
  if (n <= 0) {
    // No host end (the port reads end of file and polls as hung up): look again later.
    portRetryAt_ = Clock::now() + kPortRetry;
    fromHost_.reset();
    return;
  }
  fromHost_.feed({buffer, std::size_t(n)});
  while (auto answer = fromHost_.next()) deliver(std::move(*answer));
}

void DnsRelay::onUdp() {
  char buffer[65536];
  for (int i = 0; i < kMaxDatagramsPerRound; ++i) {
    Pending origin;
    socklen_t length = sizeof origin.client;
    auto* from = reinterpret_cast<sockaddr*>(&origin.client);
    ssize_t n = ::recvfrom(udp_.get(), buffer, sizeof buffer, 0, from, &length);
    if (n < 0) return;
    forward(std::string(buffer, std::size_t(n)), origin);
  }
}

void DnsRelay::onAccept() {
  while (connections_.size() < kMaxConnections) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) return;
    Connection connection;
    connection.fd = std::move(fd);
    connection.lastActive = Clock::now();
    connections_.emplace(nextConnection_++, std::move(connection));
  }
}

void DnsRelay::onConnection(std::uint64_t id, short revents) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  c.lastActive = Clock::now();
  if (revents & (POLLHUP | POLLERR)) {
    connections_.erase(it);  // answers still on their way are dropped when they arrive
    return;
  }
  if ((revents & POLLOUT) && !c.out.empty()) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0 && !wouldBlock()) {
      connections_.erase(it);
      return;
    }
    if (n > 0) c.out.erase(0, std::size_t(n));
  }
  if (revents & POLLIN) {
    char buffer[16384];
    ssize_t n = ::read(c.fd.get(), buffer, sizeof buffer);
    if ((n < 0 && !wouldBlock()) || c.in.buffered() > kMaxBuffered) {
      connections_.erase(it);
      return;
    }
    // A client that finished sending still gets the answers to what it asked.
    if (n == 0) c.readClosed = true;
    if (n > 0) c.in.feed({buffer, std::size_t(n)});
    while (auto query = c.in.next()) {
      Pending origin;
      origin.tcp = true;
      origin.connection = id;
      forward(std::move(*query), origin);
    }
  }
  bool waiting = std::any_of(pending_.begin(), pending_.end(), [&](const auto& p) {
    return p.second.tcp && p.second.connection == id;
  });
  if (c.readClosed && c.out.empty() && !waiting) connections_.erase(it);
}

void DnsRelay::forward(std::string query, Pending origin) {
  if (!dns::hasHeader(query) || dns::isResponse(query)) return;
  if (pending_.size() >= kMaxPending || toHost_.size() > kMaxBuffered) {
    log::debug("DNS relay busy: query dropped");
    return;
  }
  while (pending_.count(nextId_) || nextId_ == 0) ++nextId_;
  std::uint16_t id = nextId_++;
  origin.clientId = dns::messageId(query);
  origin.query = query;
  origin.expires = Clock::now() + kQueryLifetime;
  dns::setMessageId(query, id);
  toHost_ += dns::encodeFrame(query);
  pending_[id] = std::move(origin);
}

void DnsRelay::deliver(std::string answer) {
  if (!dns::hasHeader(answer)) return;
  auto it = pending_.find(dns::messageId(answer));
  if (it == pending_.end()) return;  // expired, or not ours
  Pending origin = std::move(it->second);
  pending_.erase(it);
  dns::setMessageId(answer, origin.clientId);
  if (origin.tcp) {
    auto connection = connections_.find(origin.connection);
    if (connection != connections_.end() && connection->second.out.size() < kMaxBuffered) {
      connection->second.out += dns::encodeFrame(answer);
    }
    return;
  }
  // The host may have fetched the whole answer over TCP: a UDP client gets what it can take.
  if (answer.size() > dns::udpReplyLimit(origin.query))
    answer = dns::truncatedReply(answer, origin.query);
  ::sendto(udp_.get(), answer.data(), answer.size(), MSG_DONTWAIT,
           reinterpret_cast<const sockaddr*>(&origin.client), sizeof origin.client);
}

void DnsRelay::expire(Clock::time_point now) {
  std::erase_if(pending_, [&](const auto& entry) { return entry.second.expires <= now; });
  std::erase_if(connections_,
                [&](const auto& entry) { return now - entry.second.lastActive > kConnectionIdle; });
}

}  // namespace runvirt::agent

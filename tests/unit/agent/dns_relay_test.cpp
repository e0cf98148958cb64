// guest/agent/dns_relay.cpp: the guest end of the DNS relay, with a socket pair standing in
// for the DNS port and 127.0.0.1 for 127.0.0.11.
#include "dns_relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runvirt/agent/dns_frames.hpp"

namespace runvirt::agent {
namespace {

std::string queryFor(std::uint16_t id) {
  std::string q(12, '\0');
  q[0] = char(id >> 8);
  q[1] = char(id & 0xff);
  q[2] = 0x01;
  q[5] = 1;
  return q + std::string("\x03web\0\0\x01\0\x01", 9);
}

std::string answerTo(std::string query, std::size_t padding) {
  query[2] = char(0x81);
  query[7] = 1;
  return query + std::string(padding, 'a');
}

sockaddr_in freeLocalAddress() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  int probe = socket(AF_INET, SOCK_DGRAM, 0);
  bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t length = sizeof a;
  getsockname(probe, reinterpret_cast<sockaddr*>(&a), &length);
  close(probe);
  return a;
}

class GuestDnsRelay : public ::testing::Test {
 protected:
  void SetUp() override {
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair), 0);
    host_ = UniqueFd(pair[1]);
    address_ = freeLocalAddress();
    relay_.emplace(UniqueFd(pair[0]), address_);
  }

  // Runs the relay's poll rounds for a while.
  void pump(int rounds = 5) {
    for (int i = 0; i < rounds; ++i) {
      PollSet set;
      relay_->addToPoll(set, Clock::now());
      set.wait(20);
    }
  }

  // The queries the relay sent to the host so far.
  std::vector<std::string> queriesAtHost() {
    char buf[65536];
    ssize_t n;
    while ((n = read(host_.get(), buf, sizeof buf)) > 0) fromRelay_.feed({buf, std::size_t(n)});
    std::vector<std::string> out;
    while (auto m = fromRelay_.next()) out.push_back(*m);
    return out;
  }

  void answerFromHost(const std::string& answer) {
    std::string frame = dns::encodeFrame(answer);
    ASSERT_EQ(write(host_.get(), frame.data(), frame.size()), ssize_t(frame.size()));
  }

  UniqueFd udpClient() {
    UniqueFd c(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    EXPECT_EQ(connect(c.get(), reinterpret_cast<sockaddr*>(&address_), sizeof address_), 0);
    return c;
  }

  UniqueFd host_;
  sockaddr_in address_{};
  std::optional<DnsRelay> relay_;
  dns::FrameDecoder fromRelay_;
};

TEST_F(GuestDnsRelay, UdpQueriesGetRelayIdsAndAnswersGetTheClientsBack) {
  UniqueFd a = udpClient(), b = udpClient();
  std::string qa = queryFor(0x4242), qb = queryFor(0x4242);  // same id from two clients
  ASSERT_EQ(send(a.get(), qa.data(), qa.size(), 0), ssize_t(qa.size()));
  ASSERT_EQ(send(b.get(), qb.data(), qb.size(), 0), ssize_t(qb.size()));
  pump();
  auto queries = queriesAtHost();
  ASSERT_EQ(queries.size(), 2u);
  EXPECT_NE(dns::messageId(queries[0]), dns::messageId(queries[1]));
  answerFromHost(answerTo(queries[1], 4));
  answerFromHost(answerTo(queries[0], 2));
  pump();
  char buf[1024];
  ssize_t n = recv(a.get(), buf, sizeof buf, 0);
  ASSERT_EQ(n, ssize_t(qa.size() + 2));
  EXPECT_EQ(dns::messageId({buf, std::size_t(n)}), 0x4242);
  n = recv(b.get(), buf, sizeof buf, 0);
  EXPECT_EQ(n, ssize_t(qb.size() + 4));
}

TEST_F(GuestDnsRelay, AnswersTooBigForUdpAreTruncated) {
  UniqueFd c = udpClient();
  std::string q = queryFor(9);
  send(c.get(), q.data(), q.size(), 0);
  pump();
  auto queries = queriesAtHost();
  ASSERT_EQ(queries.size(), 1u);
  answerFromHost(answerTo(queries[0], 1000));  // e.g. fetched over TCP by the host
  pump();
  char buf[4096];
  ssize_t n = recv(c.get(), buf, sizeof buf, 0);
  ASSERT_EQ(n, ssize_t(q.size()));  // header and question
  std::string cut(buf, std::size_t(n));
  EXPECT_TRUE(dns::isTruncated(cut));
  EXPECT_EQ(dns::messageId(cut), 9);
}

TEST_F(GuestDnsRelay, TcpClientsGetFramedAnswers) {
  UniqueFd c(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(c.get(), reinterpret_cast<sockaddr*>(&address_), sizeof address_), 0);
  std::string frame = dns::encodeFrame(queryFor(0x0102));
  ASSERT_EQ(write(c.get(), frame.data(), frame.size()), ssize_t(frame.size()));
  shutdown(c.get(), SHUT_WR);  // the client is done sending, still waits for the answer
  pump();
  auto queries = queriesAtHost();
  ASSERT_EQ(queries.size(), 1u);
  answerFromHost(answerTo(queries[0], 2000));
  pump();
  dns::FrameDecoder decoder;
  char buf[8192];
  std::optional<std::string> answer;
  for (int i = 0; i < 10 && !answer; ++i) {
    ssize_t n = recv(c.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) decoder.feed({buf, std::size_t(n)});
    answer = decoder.next();
    if (!answer) pump(1);
  }
  ASSERT_TRUE(answer);
  EXPECT_EQ(dns::messageId(*answer), 0x0102);
  EXPECT_EQ(answer->size(), queryFor(1).size() + 2000);
  pump();
  EXPECT_EQ(recv(c.get(), buf, sizeof buf, MSG_DONTWAIT), 0);  // then the relay closes it
}

TEST_F(GuestDnsRelay, UnknownAndMalformedAnswersAreDropped) {
  answerFromHost(answerTo(queryFor(77), 0));
  answerFromHost("x");
  pump();
  UniqueFd c = udpClient();
  std::string q = queryFor(5);
  send(c.get(), q.data(), q.size(), 0);
  pump();
  EXPECT_EQ(queriesAtHost().size(), 1u);
}

TEST_F(GuestDnsRelay, AGoneHostIsRetriedNotSpunOn) {
  host_.reset();
  pump(1);
  EXPECT_GT(relay_->msUntilNextDeadline(Clock::now()), 0);
  PollSet set;
  relay_->addToPoll(set, Clock::now());  // the port is left out until the retry time
  auto start = Clock::now();
  set.wait(50);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(40));
}

}  // namespace
}  // namespace runvirt::agent

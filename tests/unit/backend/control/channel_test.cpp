// libvirt-backend/control/channel.cpp: control messages over SOCK_SEQPACKET, with the fds they
// carry; end of file, oversized and malformed packets; call() against a monitor that answers,
// fails, is absent or silent.
#include "control/channel.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "unit/test_util.hpp"

namespace runvirt::backend::control {
namespace {

using test::errorOf;

TEST(ControlChannel, RequestTravelsWithItsFds) {
  auto [a, b] = reportChannel();
  int pipeFds[2];
  ASSERT_EQ(pipe(pipeFds), 0);
  UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
  send(a.get(), Request{Signal{15}}, {readEnd.get(), writeEnd.get()});
  auto received = receiveRequest(b.get());
  ASSERT_TRUE(received);
  EXPECT_EQ(std::get<Signal>(received->request).signal, 15);
  ASSERT_EQ(received->fds.size(), 2u);
  EXPECT_EQ(fcntl(received->fds[0].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  // The passed write end reaches the same pipe.
  ASSERT_EQ(write(received->fds[1].get(), "x", 1), 1);
  char c = 0;
  EXPECT_EQ(read(readEnd.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

TEST(ControlChannel, EndOfFileIsNoMessage) {
  auto [a, b] = reportChannel();
  a.reset();
  EXPECT_FALSE(receiveReply(b.get()));
  EXPECT_FALSE(receiveRequest(b.get()));
}

TEST(ControlChannel, ReplyAfterTheOtherEndLeftIsIgnoredBySendIfConnected) {
  auto [a, b] = reportChannel();
  b.reset();
  EXPECT_NO_THROW(sendIfConnected(a.get(), Done{}));
  EXPECT_FALSE(errorOf([&] { send(a.get(), Reply{Done{}}); }).empty());
}

TEST(ControlChannel, MalformedPacketsAreErrors) {
  auto [a, b] = reportChannel();
  ASSERT_EQ(::send(a.get(), "not json", 8, 0), 8);
  EXPECT_EQ(errorOf([&] { receiveReply(b.get()); }), "control message is not JSON");
  std::string other = R"({"version":1,"type":"done","extra":1})";
  ASSERT_EQ(::send(a.get(), other.data(), other.size(), 0), static_cast<ssize_t>(other.size()));
  EXPECT_EQ(errorOf([&] { receiveReply(b.get()); }),
            "invalid control reply `done`: extra: is not a known field");
}

TEST(ControlChannel, OversizedPacketIsAnErrorNotATruncatedMessage) {
  auto [a, b] = reportChannel();
  int size = 4 << 20;
  ASSERT_EQ(setsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
  ASSERT_EQ(setsockopt(b.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size), 0);
  std::string big =
      R"({"version":1,"type":"failed","error":")" + std::string(kMaxMessageBytes, 'x') + "\"}";
  std::thread writer([&] { ::send(a.get(), big.data(), big.size(), 0); });
  EXPECT_EQ(errorOf([&] { receiveReply(b.get()); }),
            "control socket: receive: message longer than 1048576 bytes");
  writer.join();
  EXPECT_EQ(errorOf([&] { send(a.get(), Reply{Failed{std::string(kMaxMessageBytes, 'x')}}); }),
            "control message too large");
}

// Plays a monitor on a listening socket: answers one request with `reply` (or stays silent).
class OneShotMonitor {
 public:
  OneShotMonitor(const std::string& path, std::optional<Reply> reply)
      : listener_(listen(path)), thread_([this, reply] {
          pollfd p{listener_.get(), POLLIN, 0};
          if (poll(&p, 1, 5000) != 1) return;
          UniqueFd connection(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
          auto received = receiveRequest(connection.get());
          if (received) type_ = typeName(received->request);
          if (reply) sendIfConnected(connection.get(), *reply);
          pollfd closed{connection.get(), POLLIN, 0};
          poll(&closed, 1, 5000);  // until the client gives up
        }) {}
  ~OneShotMonitor() {
    if (thread_.joinable()) thread_.join();
  }
  std::string type() {
    thread_.join();
    return type_;
  }

 private:
  UniqueFd listener_;
  std::string type_;
  std::thread thread_;
};

TEST(ControlChannel, CallReturnsTheReply) {
  test::TempDir dir;
  OneShotMonitor monitor(dir / "control.sock", Started{7});
  Reply reply = call(dir / "control.sock", Start{}, 5);
  EXPECT_EQ(std::get<Started>(reply).pid, 7);
  EXPECT_EQ(monitor.type(), "start");
}

TEST(ControlChannel, CallThrowsAFailedReply) {
  test::TempDir dir;
  OneShotMonitor monitor(dir / "control.sock", Failed{"cannot start a container that has stopped"});
  EXPECT_EQ(errorOf([&] { call(dir / "control.sock", Start{}, 5); }),
            "cannot start a container that has stopped");
}

TEST(ControlChannel, CallWithoutAMonitorIsNotRunning) {
  test::TempDir dir;
  try {
    call(dir / "control.sock", Kill{9, false}, 5);
    FAIL() << "call succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "container not running");
    EXPECT_EQ(e.kind(), ErrorKind::NotRunning);
  }
}

TEST(ControlChannel, CallToASilentMonitorTimesOut) {
  test::TempDir dir;
  OneShotMonitor monitor(dir / "control.sock", std::nullopt);
  try {
    call(dir / "control.sock", ListHostPids{}, 0.2);
    FAIL() << "call succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "the container's monitor did not answer");
    EXPECT_EQ(e.kind(), ErrorKind::Timeout);
  }
}

TEST(ControlChannel, ListeningSocketIsRootOnly) {
  test::TempDir dir;
  UniqueFd listener = listen(dir / "control.sock");
  struct stat st {};
  ASSERT_EQ(stat((dir / "control.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace runvirt::backend::control

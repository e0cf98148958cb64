// oci/src/fd_passing.cpp: messages with SCM_RIGHTS descriptors over SOCK_SEQPACKET.
#include "runvirt/fd_passing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit/test_util.hpp"

namespace runvirt {
namespace {

using test::errorOf;

struct SeqpacketPair {
  UniqueFd a, b;
  SeqpacketPair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

struct PipePair {
  UniqueFd read, write;
  PipePair() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

// How many descriptors this process has open: received ones that leak show up here.
int openFdCount() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (readdir(dir)) ++count;
  closedir(dir);
  return count;
}

TEST(FdPassing, CarriesBytesAndWorkingCloseOnExecDescriptors) {
  SeqpacketPair s;
  PipePair p;
  sendWithFds(s.a.get(), "stdio", {p.read.get(), p.write.get()});
  auto message = receiveWithFds(s.b.get(), 64, 3);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->bytes, "stdio");
  ASSERT_EQ(message->fds.size(), 2u);
  for (const auto& fd : message->fds) EXPECT_TRUE(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(write(message->fds[1].get(), "z", 1), 1);
  char c = 0;
  ASSERT_EQ(read(message->fds[0].get(), &c, 1), 1);
  EXPECT_EQ(c, 'z');
}

TEST(FdPassing, MessagesStayApart) {
  SeqpacketPair s;
  sendWithFds(s.a.get(), "one");
  sendWithFds(s.a.get(), "two");
  EXPECT_EQ(receiveWithFds(s.b.get(), 64, 0)->bytes, "one");
  EXPECT_EQ(receiveWithFds(s.b.get(), 64, 0)->bytes, "two");
}

TEST(FdPassing, EndOfFileAndNothingQueued) {
  SeqpacketPair s;
  bool wouldBlock = false;
  EXPECT_FALSE(tryReceiveWithFds(s.b.get(), 64, 1, wouldBlock));
  EXPECT_TRUE(wouldBlock);
  sendWithFds(s.a.get(), "last");
  s.a.reset();
  auto last = tryReceiveWithFds(s.b.get(), 64, 1, wouldBlock);
  ASSERT_TRUE(last);
  EXPECT_FALSE(wouldBlock);
  EXPECT_EQ(last->bytes, "last");
  EXPECT_FALSE(receiveWithFds(s.b.get(), 64, 1));
  EXPECT_FALSE(tryReceiveWithFds(s.b.get(), 64, 1, wouldBlock));
  EXPECT_FALSE(wouldBlock);
}

TEST(FdPassing, ALongerMessageIsAnErrorAndItsDescriptorsAreClosed) {
  SeqpacketPair s;
  PipePair p;
  int before = openFdCount();
  sendWithFds(s.a.get(), "0123456789", {p.read.get()});
  EXPECT_EQ(errorOf([&] { receiveWithFds(s.b.get(), 4, 1); }),
            "receive: message longer than 4 bytes");
  EXPECT_EQ(openFdCount(), before);
}

TEST(FdPassing, MoreDescriptorsThanExpectedIsAnErrorAndTheyAreClosed) {
  SeqpacketPair s;
  PipePair p;
  int before = openFdCount();
  // One fd asked, two sent: the kernel's rounded-up room would take both without MSG_CTRUNC.
  sendWithFds(s.a.get(), "x", {p.read.get(), p.write.get()});
  EXPECT_EQ(errorOf([&] { receiveWithFds(s.b.get(), 64, 1); }),
            "receive: more than 1 file descriptors attached");
  sendWithFds(s.a.get(), "x", {p.read.get(), p.write.get(), p.read.get(), p.write.get()});
  EXPECT_EQ(errorOf([&] { receiveWithFds(s.b.get(), 64, 1); }),
            "receive: more than 1 file descriptors attached");
  sendWithFds(s.a.get(), "x", {p.read.get()});
  EXPECT_EQ(errorOf([&] { receiveWithFds(s.b.get(), 64, 0); }),
            "receive: more than 0 file descriptors attached");
  EXPECT_EQ(openFdCount(), before);
}

TEST(FdPassing, SendErrors) {
  SeqpacketPair s;
  EXPECT_EQ(errorOf([&] { sendWithFds(s.a.get(), ""); }),
            "send: an empty message would be read as end of file");
  s.b.reset();
  EXPECT_EQ(errorOf([&] { sendWithFds(s.a.get(), "x"); }), "send: Broken pipe");  // and no SIGPIPE
}

}  // namespace
}  // namespace runvirt

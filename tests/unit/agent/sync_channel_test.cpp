#include "sync_channel.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace runvirt::agent {
namespace {

TEST(SyncChannel, CarriesKindTextAndDescriptors) {
  auto [a, b] = makeSyncPair();
  int pipeFds[2];
  ASSERT_EQ(::pipe(pipeFds), 0);
  UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
  sendSync(a.get(), SyncKind::Stdio, "pipes", {readEnd.get()});
  sendSync(a.get(), SyncKind::Error, std::string(10000, 'x'));  // cut to one message

  auto message = receiveSync(b.get());
  ASSERT_TRUE(message);
  EXPECT_EQ(message->kind, SyncKind::Stdio);
  EXPECT_EQ(message->text, "pipes");
  ASSERT_EQ(message->fds.size(), 1u);
  EXPECT_TRUE(::fcntl(message->fds[0].get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(::write(writeEnd.get(), "z", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(message->fds[0].get(), &c, 1), 1);
  EXPECT_EQ(c, 'z');

  auto error = receiveSync(b.get());
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, SyncKind::Error);
  EXPECT_EQ(error->text.size(), 4000u);
}

TEST(SyncChannel, EndOfFileAndWouldBlock) {
  auto [a, b] = makeSyncPair();
  bool wouldBlock = false;
  EXPECT_FALSE(receiveSync(b.get(), true, &wouldBlock));
  EXPECT_TRUE(wouldBlock);
  a.reset();
  EXPECT_FALSE(receiveSync(b.get(), true, &wouldBlock));
  EXPECT_FALSE(wouldBlock);
}

}  // namespace
}  // namespace runvirt::agent

#include "passwd.hpp"

#include <gtest/gtest.h>

namespace runvirt::agent {
namespace {

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\r\n"
    "broken-line\n"
    "baduid:x:abc:1:x:/:/bin/sh\n"
    "user:x:1000:1000:User,,,:/home/user:/bin/bash\n"
    "short:x:1001:1001\n"
    "user:x:2000:2000:duplicate:/other:/bin/sh\n";

TEST(Passwd, ParsesValidEntriesAndSkipsOthers) {
  auto users = parsePasswd(kPasswd);
  ASSERT_EQ(users.size(), 5u);
  EXPECT_EQ(users[0].name, "root");
  EXPECT_EQ(users[1].name, "daemon");
  EXPECT_EQ(users[1].shell, "/usr/sbin/nologin");  // CR of a CRLF line is not part of it
  EXPECT_EQ(users[2].uid, 1000u);
  EXPECT_EQ(users[2].gid, 1000u);
  EXPECT_EQ(users[2].home, "/home/user");
  EXPECT_EQ(users[3].name, "short");
  EXPECT_EQ(users[3].home, "");
}

TEST(Passwd, FirstEntryWinsByNameAndUid) {
  auto users = parsePasswd(kPasswd);
  auto user = findUserByName(users, "user");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->uid, 1000u);
  auto byUid = findUserByUid(users, 1);
  ASSERT_TRUE(byUid);
  EXPECT_EQ(byUid->name, "daemon");
  EXPECT_FALSE(findUserByName(users, "nobody"));
  EXPECT_FALSE(findUserByUid(users, 4242));
  EXPECT_FALSE(findUserByName(parsePasswd(""), "root"));
}

TEST(Group, ParsesMembersAndFindsSupplementaryGroups) {
  auto groups = parseGroup(
      "root:x:0:\n"
      "adm:x:4:syslog,user\n"
      "bad:x:notanumber:user\n"
      "users:x:100:alice,,user\n"
      "nomembers:x:200\n"
      "other:x:300:alice\n");
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[1].members, (std::vector<std::string>{"syslog", "user"}));
  EXPECT_EQ(groups[2].members, (std::vector<std::string>{"alice", "user"}));
  EXPECT_TRUE(groups[3].members.empty());
  EXPECT_EQ(supplementaryGroups(groups, "user"), (std::vector<gid_t>{4, 100}));
  EXPECT_EQ(supplementaryGroups(groups, "alice"), (std::vector<gid_t>{100, 300}));
  EXPECT_TRUE(supplementaryGroups(groups, "nobody").empty());
}

}  // namespace
}  // namespace runvirt::agent

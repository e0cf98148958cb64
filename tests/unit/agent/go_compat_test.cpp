#include "go_compat.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "container_setup.hpp"

#include <sched.h>

namespace runvirt::agent {
namespace {

TEST(GoCompat, ErrnoTextIsLowerCase) {
  EXPECT_EQ(goErrnoText(ENOENT), "no such file or directory");
  EXPECT_EQ(goErrnoText(EACCES), "permission denied");
  EXPECT_EQ(goErrnoText(ENOTDIR), "not a directory");
  EXPECT_EQ(goErrnoText(ENOEXEC), "exec format error");
}

TEST(GoCompat, QuoteEscapesLikeStrconv) {
  EXPECT_EQ(goQuote("sh"), "\"sh\"");
  EXPECT_EQ(goQuote("a \"b\"\\c"), "\"a \\\"b\\\"\\\\c\"");
  EXPECT_EQ(goQuote("x\ny\t\x01"), "\"x\\ny\\t\\x01\"");
}

TEST(NamespaceCloneFlags, AlwaysMountNeverNetwork) {
  EXPECT_EQ(namespaceCloneFlags({}), static_cast<unsigned long>(CLONE_NEWNS));
  EXPECT_EQ(namespaceCloneFlags({"pid", "uts", "ipc", "cgroup", "network", "mount"}),
            static_cast<unsigned long>(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
                                       CLONE_NEWCGROUP));
}

}  // namespace
}  // namespace runvirt::agent

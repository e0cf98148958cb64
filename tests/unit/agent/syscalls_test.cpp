#include "syscalls.hpp"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "runvirt/error.hpp"

namespace runvirt::agent {
namespace {

// getcwd fails with EAGAIN, everything else is allowed (youki's test idea).
std::string getcwdFilter() {
  sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getcwd, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  return std::string(reinterpret_cast<const char*>(program), sizeof program);
}

TEST(Seccomp, FilterIsLoadedInAChild) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    try {
      sys::loadSeccompFilter(getcwdFilter());
    } catch (...) {
      ::_exit(2);
    }
    char buffer[256];
    bool blocked = ::syscall(SYS_getcwd, buffer, sizeof buffer) < 0 && errno == EAGAIN;
    ::_exit(blocked ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Seccomp, MalformedProgramIsRejected) {
  EXPECT_THROW(sys::loadSeccompFilter(""), Error);
  EXPECT_THROW(sys::loadSeccompFilter("12345"), Error);
}

TEST(OpenInRoot, SymlinksAndDotDotStayInside) {
  char pattern[] = "/tmp/open-in-root-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  std::string dir = pattern;
  ASSERT_EQ(::mkdir((dir + "/etc").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/etc", (dir + "/abs").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../etc", (dir + "/rel").c_str()), 0);
  UniqueFd root(::open(dir.c_str(), O_PATH | O_DIRECTORY));
  struct stat inside {
  }, viaAbs{}, viaRel{}, hostEtc{};
  ::stat((dir + "/etc").c_str(), &inside);
  ::stat("/etc", &hostEtc);
  ::fstat(sys::openInRoot(root.get(), "/abs", O_PATH).get(), &viaAbs);
  ::fstat(sys::openInRoot(root.get(), "rel", O_PATH).get(), &viaRel);
  EXPECT_EQ(viaAbs.st_ino, inside.st_ino);
  EXPECT_EQ(viaRel.st_ino, inside.st_ino);
  EXPECT_NE(viaAbs.st_ino, hostEtc.st_ino);
  try {
    sys::openInRoot(root.get(), "/missing", O_PATH, "the share");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_EQ(e.message(), "open `/missing` in the share: No such file or directory");
  }
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace runvirt::agent

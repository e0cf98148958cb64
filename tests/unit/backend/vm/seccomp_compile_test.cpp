// libvirt-backend/vm/seccomp_compile.cpp: OCI seccomp -> BPF, applied in a forked child the way
// the agent applies it (no_new_privs, then SECCOMP_MODE_FILTER).
#include "vm/seccomp_compile.hpp"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;

oci::Seccomp allowAllBut(std::vector<std::string> names,
                         std::optional<std::uint32_t> errnoRet = std::nullopt) {
  oci::Seccomp profile;
  profile.defaultAction = "SCMP_ACT_ALLOW";
  oci::SeccompSyscall rule;
  rule.names = std::move(names);
  rule.action = "SCMP_ACT_ERRNO";
  rule.errnoRet = errnoRet;
  profile.syscalls = {rule};
  return profile;
}

// Child exit codes of runFiltered.
constexpr int kOk = 0;
constexpr int kNoNewPrivsFailed = 10;
constexpr int kSetSeccompFailed = 11;

// Loads `bpf` in a forked child, runs `check` there and returns the child's exit code.
template <class F>
int runFiltered(const std::string& bpf, F check) {
  pid_t pid = fork();
  if (pid == 0) {
    sock_fprog program{static_cast<unsigned short>(bpf.size() / sizeof(sock_filter)),
                       reinterpret_cast<sock_filter*>(const_cast<char*>(bpf.data()))};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kNoNewPrivsFailed);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) _exit(kSetSeccompFailed);
    _exit(check());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// 0 when the getcwd syscall fails with `expected`; otherwise which step went wrong.
int getcwdFailsWith(int expected) {
  char buf[4096];
  if (syscall(SYS_getcwd, buf, sizeof buf) >= 0) return 1;
  if (errno != expected) return 2;
  if (getpid() <= 0) return 3;  // other calls still work
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 4;
  close(fd);
  return kOk;
}

TEST(Seccomp, ProgramIsWholeBpfInstructions) {
  std::string bpf = compileSeccomp(allowAllBut({"getcwd"}));
  ASSERT_FALSE(bpf.empty());
  EXPECT_EQ(bpf.size() % sizeof(sock_filter), 0u);
}

TEST(Seccomp, AppliedFilterDeniesGetcwdWithEperm) {
  std::string bpf = compileSeccomp(allowAllBut({"getcwd"}));
  EXPECT_EQ(runFiltered(bpf, [] { return getcwdFailsWith(EPERM); }), kOk);
}

TEST(Seccomp, ErrnoRetIsHonoured) {
  std::string bpf = compileSeccomp(allowAllBut({"getcwd"}, EAGAIN));
  EXPECT_EQ(runFiltered(bpf, [] { return getcwdFailsWith(EAGAIN); }), kOk);
}

TEST(Seccomp, WithoutARuleGetcwdWorks) {
  std::string bpf = compileSeccomp(allowAllBut({"getppid"}));
  EXPECT_EQ(runFiltered(bpf,
                        [] {
                          char buf[4096];
                          return syscall(SYS_getcwd, buf, sizeof buf) > 0 ? kOk : 1;
                        }),
            kOk);
}

TEST(Seccomp, ArgumentConditionsAreCompiled) {
  oci::Seccomp profile = allowAllBut({});
  oci::SeccompSyscall rule;
  rule.names = {"personality"};
  rule.action = "SCMP_ACT_ERRNO";
  rule.args = {{0, 0xffffffff, 0, "SCMP_CMP_EQ"}};
  profile.syscalls = {rule};
  std::string bpf = compileSeccomp(profile);
  EXPECT_EQ(runFiltered(bpf,
                        [] {
                          if (syscall(SYS_personality, 0xffffffffUL) != -1 || errno != EPERM)
                            return 1;
                          return syscall(SYS_personality, 0xffffffffUL - 1) == -1 && errno == EPERM
                                     ? 2
                                     : kOk;
                        }),
            kOk);
}

TEST(Seccomp, SyscallUnknownToTheArchitectureIsSkipped) {
  EXPECT_EQ(compileSeccomp(allowAllBut({"getcwd", "no_such_syscall_xyz"})),
            compileSeccomp(allowAllBut({"getcwd"})));
}

TEST(Seccomp, UnknownArchitectureIsSkipped) {
  oci::Seccomp profile = allowAllBut({"getcwd"});
  profile.architectures = {"SCMP_ARCH_NOT_A_REAL_ARCH"};
  EXPECT_EQ(compileSeccomp(profile), compileSeccomp(allowAllBut({"getcwd"})));
}

TEST(Seccomp, UnknownActionIsAnError) {
  oci::Seccomp profile = allowAllBut({"getcwd"});
  profile.syscalls[0].action = "SCMP_ACT_EXPLODE";
  EXPECT_EQ(errorOf([&] { compileSeccomp(profile); }),
            "unsupported seccomp action `SCMP_ACT_EXPLODE`");
  profile.defaultAction = "SCMP_ACT_NOPE";
  EXPECT_EQ(errorOf([&] { compileSeccomp(profile); }),
            "unsupported seccomp action `SCMP_ACT_NOPE`");
}

TEST(Seccomp, UnknownOperatorIsAnError) {
  oci::Seccomp profile = allowAllBut({"personality"});
  profile.syscalls[0].args = {{0, 1, 0, "SCMP_CMP_ABOUT"}};
  EXPECT_EQ(errorOf([&] { compileSeccomp(profile); }),
            "unsupported seccomp operator `SCMP_CMP_ABOUT`");
}

TEST(Seccomp, EveryAdvertisedNameCompiles) {
  for (const auto& action : seccompActionNames()) {
    oci::Seccomp profile = allowAllBut({"getcwd"});
    profile.syscalls[0].action = action;
    EXPECT_NO_THROW(compileSeccomp(profile)) << action;
  }
  for (const auto& op : seccompOperatorNames()) {
    oci::Seccomp profile = allowAllBut({"personality"});
    profile.syscalls[0].args = {{0, 1, 0, op}};
    EXPECT_NO_THROW(compileSeccomp(profile)) << op;
  }
  oci::Seccomp profile = allowAllBut({"getcwd"});
  profile.architectures = seccompArchitectureNames();
  EXPECT_NE(compileSeccomp(profile),
            compileSeccomp(allowAllBut({"getcwd"})));  // resolved, not skipped
}

TEST(Seccomp, DockerProfileCompiles) {
  oci::Seccomp profile;
  profile.defaultAction = "SCMP_ACT_ERRNO";
  profile.defaultErrnoRet = 1;
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  oci::SeccompSyscall allow;
  allow.names = {"read", "write", "exit_group", "futex"};
  allow.action = "SCMP_ACT_ALLOW";
  oci::SeccompSyscall clone;
  clone.names = {"clone"};
  clone.action = "SCMP_ACT_ALLOW";
  clone.args = {{0, 2114060288, 0, "SCMP_CMP_MASKED_EQ"}};
  profile.syscalls = {allow, clone};
  EXPECT_GT(compileSeccomp(profile).size(), compileSeccomp(allowAllBut({"getcwd"})).size());
}

}  // namespace
}  // namespace runvirt::backend

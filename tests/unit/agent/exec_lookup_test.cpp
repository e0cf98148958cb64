#include "exec_lookup.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "runvirt/error.hpp"

namespace runvirt::agent {
namespace {

class ExecLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/exec-lookup-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ::mkdir((dir_ + "/bin").c_str(), 0755);
    ::mkdir((dir_ + "/sbin").c_str(), 0755);
    ::mkdir((dir_ + "/bin/subdir").c_str(), 0755);
    makeFile("/bin/tool", 0755);
    makeFile("/sbin/tool", 0755);
    makeFile("/bin/plain", 0644);
    makeFile("/sbin/plain", 0755);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  void makeFile(const std::string& name, mode_t mode) {
    std::ofstream(dir_ + name) << "#!/bin/sh\n";
    ::chmod((dir_ + name).c_str(), mode);
  }

  std::string lookupError(const std::string& name, const std::string& path) {
    try {
      lookPath(name, path);
    } catch (const Error& e) {
      return e.message();
    }
    return "(no error)";
  }

  std::string dir_;
};

TEST_F(ExecLookup, SearchesPathInOrder) {
  EXPECT_EQ(lookPath("tool", dir_ + "/bin:" + dir_ + "/sbin"), dir_ + "/bin/tool");
  EXPECT_EQ(lookPath("tool", dir_ + "/sbin/:" + dir_ + "/bin"), dir_ + "/sbin/tool");
}

TEST_F(ExecLookup, SkipsNonExecutablesAndDirectoriesInPath) {
  EXPECT_EQ(lookPath("plain", dir_ + "/bin:" + dir_ + "/sbin"), dir_ + "/sbin/plain");
  EXPECT_EQ(lookupError("subdir", dir_ + "/bin"),
            "exec: \"subdir\": executable file not found in $PATH");
}

TEST_F(ExecLookup, NotFoundWording) {
  EXPECT_EQ(lookupError("nope", dir_ + "/bin"),
            "exec: \"nope\": executable file not found in $PATH");
  EXPECT_EQ(lookupError("tool", ""), "exec: \"tool\": executable file not found in $PATH");
  EXPECT_EQ(lookupError("", dir_ + "/bin"), "exec: \"\": executable file not found in $PATH");
}

TEST_F(ExecLookup, NameWithSlashIsUsedAsIs) {
  EXPECT_EQ(lookPath(dir_ + "/bin/tool", ""), dir_ + "/bin/tool");
  std::string missing = dir_ + "/bin/missing";
  EXPECT_EQ(lookupError(missing, "/bin"),
            "exec: \"" + missing + "\": stat " + missing + ": no such file or directory");
  EXPECT_EQ(lookupError(dir_ + "/bin", ""), "exec: \"" + dir_ + "/bin\": permission denied");
  EXPECT_EQ(lookupError(dir_ + "/bin/plain", ""),
            "exec: \"" + dir_ + "/bin/plain\": permission denied");
  std::string throughFile = dir_ + "/bin/tool/x";
  EXPECT_EQ(lookupError(throughFile, ""),
            "exec: \"" + throughFile + "\": stat " + throughFile + ": not a directory");
}

TEST_F(ExecLookup, RelativePathEntryIsRefused) {
  int previous = ::open(".", O_RDONLY | O_DIRECTORY);  // other tests use relative paths
  ASSERT_GE(previous, 0);
  ASSERT_EQ(::chdir(dir_.c_str()), 0);
  EXPECT_EQ(lookupError("tool", "bin"),
            "exec: \"tool\": cannot run executable found relative to current directory");
  EXPECT_EQ(lookPath("./bin/tool", ""), "./bin/tool");  // with a slash: used as is
  ASSERT_EQ(::fchdir(previous), 0);
  ::close(previous);
}

TEST(EnvValue, LastDefinitionWins) {
  std::vector<std::string> env = {"PATH=/a", "HOME=/root", "PATHX=/no", "PATH=/b", "EMPTY="};
  EXPECT_EQ(envValue(env, "PATH"), "/b");
  EXPECT_EQ(envValue(env, "EMPTY"), "");
  EXPECT_FALSE(envValue(env, "PAT"));
  EXPECT_FALSE(envValue(env, "USER"));
}

}  // namespace
}  // namespace runvirt::agent

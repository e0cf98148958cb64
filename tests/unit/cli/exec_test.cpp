// runtime-cli/commands/exec.cpp: what `exec` reads before it reaches a container.
#include <gtest/gtest.h>

#include "commands/commands.hpp"
#include "unit/test_util.hpp"

namespace runvirt::cli {
namespace {

// `--process` names the file: /dev/zero used to be read until memory ran out.
TEST(ExecCommand, AProcessFileThatNeverEndsIsReadOnlyUpToItsBound) {
  test::TempDir dir;
  test::writeFile(dir / "config.toml", "");
  GlobalOptions global;
  global.root = dir / "root";
  global.config = dir / "config.toml";
  std::string outcome = test::inChildWithMemoryLimit([&] {
    return test::errorOf([&] { execCommand(global, {"--process", "/dev/zero", "web"}); });
  });
  EXPECT_EQ(outcome, "exec failed: read /dev/zero: larger than 16777216 bytes");
}

TEST(ExecCommand, AMissingProcessFileIsNamed) {
  test::TempDir dir;
  test::writeFile(dir / "config.toml", "");
  GlobalOptions global;
  global.root = dir / "root";
  global.config = dir / "config.toml";
  std::string missing = dir / "nope.json";
  EXPECT_EQ(test::errorOf([&] {
              execCommand(global, {"--process", missing, "web"});
            }),
            "exec failed: open process file " + missing + ": No such file or directory");
}

}  // namespace
}  // namespace runvirt::cli

// libvirt-backend/state/hooks.cpp: OCI hooks run as real executables (sh scripts in a temp dir).
#include "state/hooks.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;

class HooksTest : public ::testing::Test {
 protected:
  // Writes an executable sh script and returns a hook running it.
  oci::Hook script(const std::string& name, const std::string& body,
                   std::optional<int> timeout = std::nullopt) {
    std::string path = dir / name;
    test::writeFile(path, "#!/bin/sh\n" + body + "\n");
    chmod(path.c_str(), 0755);
    oci::Hook hook;
    hook.path = path;
    hook.timeout = timeout;
    return hook;
  }

  oci::State state() const {
    oci::State s;
    s.id = "web";
    s.status = oci::Status::Created;
    s.pid = 4242;
    s.bundle = "/run/bundle";
    s.annotations = {{"a", "b"}};
    return s;
  }

  test::TempDir dir;
};

TEST_F(HooksTest, HookReceivesTheStateOnStdin) {
  runHooks({script("save-state", "cat > " + (dir / "state.json"))}, "prestart", state());
  EXPECT_EQ(test::readFile(dir / "state.json"), oci::toHookStateJson(state()).dump());
}

TEST_F(HooksTest, ArgsAndEnvArePassed) {
  // Through #! the kernel replaces argv[0] with the script path: check the others.
  oci::Hook hook = script("args", "echo \"$1|$2|$#|$FOO\" > " + (dir / "out"));
  hook.args = {"named-zero", "one", "two words"};
  hook.env = {"FOO=bar"};
  runHooks({hook}, "createRuntime", state());
  EXPECT_EQ(test::readFile(dir / "out"), "one|two words|2|bar\n");
}

TEST_F(HooksTest, HooksRunInOrder) {
  std::string log = dir / "order";
  runHooks({script("a", "echo a >> " + log), script("b", "echo b >> " + log)}, "poststart",
           state());
  EXPECT_EQ(test::readFile(log), "a\nb\n");
}

TEST_F(HooksTest, FailingHookNamesItsIndexStatusAndOutput) {
  std::string log = dir / "ran";
  std::vector<oci::Hook> hooks = {script("ok", "exit 0"),
                                  script("fail", "echo 'no network' >&2; exit 3"),
                                  script("never", "touch " + log)};
  EXPECT_EQ(errorOf([&] { runHooks(hooks, "prestart", state()); }),
            "prestart hook #1: exit status 3, output: no network\n");
  EXPECT_FALSE(test::exists(log)) << "a hook after the failing one ran";
}

TEST_F(HooksTest, HookKilledBySignal) {
  EXPECT_EQ(errorOf([&] { runHooks({script("killed", "kill -9 $$")}, "poststop", state()); }),
            "poststop hook #0: signal: Killed");
}

TEST_F(HooksTest, MissingExecutable) {
  oci::Hook hook;
  hook.path = dir / "missing";
  EXPECT_TRUE(contains(errorOf([&] { runHooks({hook}, "prestart", state()); }),
                       "prestart hook #0: exec `" + hook.path + "`: No such file or directory"));
}

TEST_F(HooksTest, TimeoutKillsTheHook) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(errorOf([&] { runHooks({script("slow", "sleep 30", 1)}, "prestart", state()); }),
            "prestart hook #0: timed out after 1 s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(HooksTest, HookThatIgnoresStdinDoesNotKillTheCaller) {
  // A state larger than the pipe buffer: the write is still going on when the hook exits.
  oci::State big = state();
  big.annotations["big"] = std::string(256 << 10, 'x');
  std::vector<oci::Hook> hooks = {script("ignores-stdin", "exit 0")};
  pid_t child = fork();
  if (child == 0) {
    try {
      runHooks(hooks, "poststop", big);
    } catch (const Error&) {
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_FALSE(WIFSIGNALED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(HooksTest, NoHooksIsFine) { EXPECT_NO_THROW(runHooks({}, "prestart", state())); }

TEST(HooksJson, PoststartAndPoststopSurviveStateJson) {
  oci::Hooks hooks;
  hooks.prestart = {{"/bin/pre", {}, {}, {}}};
  hooks.poststart = {{"/bin/post", {"post", "-x"}, std::vector<std::string>{"A=1"}, 5}};
  hooks.poststop = {{"/bin/stop", {}, {}, {}}};
  nlohmann::json j = hooksToJson(hooks);
  EXPECT_FALSE(j.contains("prestart"));
  auto poststart = hooksFromJson(j, "poststart");
  ASSERT_EQ(poststart.size(), 1u);
  EXPECT_EQ(poststart[0].path, "/bin/post");
  EXPECT_EQ(poststart[0].args, (std::vector<std::string>{"post", "-x"}));
  EXPECT_EQ(poststart[0].env,
            std::optional<std::vector<std::string>>(std::vector<std::string>{"A=1"}));
  EXPECT_EQ(poststart[0].timeout, 5);
  ASSERT_EQ(hooksFromJson(j, "poststop").size(), 1u);
  EXPECT_TRUE(hooksFromJson(j, "prestart").empty());
}

TEST(HooksJson, BadStoredHooksAreAnError) {
  nlohmann::json j = {{"poststop", nlohmann::json::array({nlohmann::json{{"path", 5}}})}};
  EXPECT_TRUE(contains(errorOf([&] { hooksFromJson(j, "poststop"); }), "state.json hooks: "));
}

}  // namespace
}  // namespace runvirt::backend

// oci/src/spec_json.cpp: config.json <-> oci::Spec, lenient input, every problem named at once.
#include "runvirt/oci/spec_json.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "runvirt/oci/validate.hpp"
#include "unit/test_util.hpp"

namespace runvirt::oci {
namespace {

using nlohmann::json;
using test::contains;
using test::errorOf;

Spec parseOk(const json& j) {
  std::vector<Problem> problems;
  Spec spec = parseSpec(j, problems);
  EXPECT_EQ(describeProblems(problems), "");
  return spec;
}

// Copies a fixture into a fresh bundle as config.json and loads it.
std::string loadError(const std::string& fixture, const test::TempDir& bundle) {
  test::writeFile(bundle / "config.json", test::readFile(test::goldenPath("oci/" + fixture)));
  return errorOf([&] { loadSpec(bundle.path()); });
}

TEST(SpecJson, DefaultSpecRoundTrips) {
  json first = toJson(defaultSpec());
  Spec parsed = parseOk(first);
  EXPECT_EQ(toJson(parsed), first);
  EXPECT_TRUE(validate(parsed).empty());
}

TEST(SpecJson, DefaultSpecIsWhatRuncSpecWrites) {
  Spec spec = defaultSpec();
  ASSERT_TRUE(spec.process);
  EXPECT_EQ(spec.process->args, std::vector<std::string>{"sh"});
  EXPECT_TRUE(spec.process->terminal);
  EXPECT_EQ(spec.root.path, "rootfs");
  EXPECT_TRUE(spec.root.readonly);
  EXPECT_TRUE(spec.hasNamespace("uts"));
  EXPECT_FALSE(spec.hasNamespace("user"));
}

TEST(SpecJson, DockerConfigParsesEveryField) {
  test::TempDir bundle;
  test::writeFile(bundle / "config.json",
                  test::readFile(test::goldenPath("oci/valid/docker.json")));
  Spec spec = loadSpec(bundle.path());

  ASSERT_TRUE(spec.process);
  const Process& p = *spec.process;
  EXPECT_EQ(p.args, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.additionalGids, (std::vector<std::uint32_t>{10, 20}));
  EXPECT_EQ(p.user.umask, 18u);
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding.size(), 4u);
  EXPECT_TRUE(p.capabilities->ambient.empty());
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].hard, 1048576u);
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_EQ(p.apparmorProfile, "docker-default");
  EXPECT_EQ(p.oomScoreAdj, 0);

  EXPECT_EQ(spec.root.path, "/var/lib/docker/overlay2/0123abcd/merged");
  EXPECT_FALSE(spec.root.readonly);
  ASSERT_EQ(spec.mounts.size(), 5u);
  EXPECT_EQ(spec.mounts[4].destination, "/hosttmp");
  EXPECT_EQ(spec.mounts[4].options, (std::vector<std::string>{"rbind", "ro", "rprivate"}));

  ASSERT_EQ(spec.hooks.prestart.size(), 1u);
  EXPECT_EQ(spec.hooks.prestart[0].path, "/proc/1234/exe");
  EXPECT_EQ(spec.hooks.prestart[0].args[0], "libnetwork-setkey");
  ASSERT_EQ(spec.hooks.poststop.size(), 1u);
  EXPECT_EQ(spec.hooks.poststop[0].timeout, 5);
  EXPECT_EQ(spec.hooks.poststop[0].env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(spec.annotations.at("org.example.owner"), "tests");

  ASSERT_TRUE(spec.linux);
  const Linux& l = *spec.linux;
  EXPECT_EQ(l.cgroupsPath, "/docker/4f2c1a");
  EXPECT_EQ(l.namespaces.size(), 5u);
  EXPECT_TRUE(spec.hasNamespace("network"));
  EXPECT_EQ(spec.namespacePath("network"), "");
  ASSERT_TRUE(l.resources && l.resources->memory && l.resources->cpu && l.resources->pids);
  EXPECT_EQ(l.resources->memory->limit, 268435456);
  EXPECT_EQ(l.resources->memory->swap, 536870912);
  EXPECT_EQ(l.resources->cpu->shares, 512u);
  EXPECT_EQ(l.resources->cpu->quota, 150000);
  EXPECT_EQ(l.resources->cpu->period, 100000u);
  EXPECT_EQ(l.resources->cpu->cpus, "0-1");
  EXPECT_EQ(l.resources->pids->limit, 100);
  ASSERT_TRUE(l.seccomp);
  EXPECT_EQ(l.seccomp->defaultAction, "SCMP_ACT_ERRNO");
  EXPECT_EQ(l.seccomp->defaultErrnoRet, 1u);
  EXPECT_EQ(l.seccomp->architectures.size(), 3u);
  ASSERT_EQ(l.seccomp->syscalls.size(), 2u);
  ASSERT_EQ(l.seccomp->syscalls[1].args.size(), 1u);
  EXPECT_EQ(l.seccomp->syscalls[1].args[0].value, 4294967295u);
  EXPECT_EQ(l.seccomp->syscalls[1].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_unprivileged_port_start"), "0");
  EXPECT_EQ(l.maskedPaths.size(), 2u);
  EXPECT_FALSE(l.hasUserNamespaceMappings);
}

TEST(SpecJson, DevicesAndDeviceRulesParse) {
  json j = json::parse(test::readFile(test::goldenPath("oci/valid/docker.json")));
  j["linux"]["devices"] =
      json::array({{{"path", "/dev/fuse"},
                    {"type", "c"},
                    {"major", 10},
                    {"minor", 229},
                    {"fileMode", 438},
                    {"uid", 0},
                    {"gid", 0}},
                   {{"path", "/dev/xvda"}, {"type", "b"}, {"major", 7}, {"minor", 0}}});
  j["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "rwm"}});
  Spec spec = parseOk(j);
  ASSERT_EQ(spec.linux->devices.size(), 2u);
  EXPECT_EQ(spec.linux->devices[0].path, "/dev/fuse");
  EXPECT_EQ(spec.linux->devices[0].major, 10);
  EXPECT_EQ(spec.linux->devices[0].minor, 229);
  EXPECT_EQ(spec.linux->devices[0].fileMode, 0666u);
  EXPECT_EQ(spec.linux->devices[1].type, "b");
  EXPECT_FALSE(spec.linux->devices[1].fileMode);
  const auto& rules = spec.linux->resources->devices;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_FALSE(rules[0].allow);
  EXPECT_FALSE(rules[0].major);
  EXPECT_EQ(rules[0].access, "rwm");
  EXPECT_TRUE(rules[1].allow);
  EXPECT_EQ(rules[1].minor, 229);
}

TEST(SpecJson, AConfigJsonThatNeverEndsIsReadOnlyUpToItsBound) {
  test::TempDir bundle;
  std::filesystem::create_symlink("/dev/zero", bundle / "config.json");
  std::string error = errorOf([&] { loadSpec(bundle.path()); });
  EXPECT_TRUE(contains(error, "config.json: larger than 67108864 bytes")) << error;
}

TEST(SpecJson, UnknownFieldsAreIgnored) {
  json j = toJson(defaultSpec());
  j["vm"] = {{"hypervisor", {{"path", "/usr/bin/qemu"}}}};
  j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_IDLE"}};
  j["linux"]["intelRdt"] = {{"closID", "x"}};
  Spec spec = parseOk(j);
  EXPECT_EQ(toJson(spec), toJson(defaultSpec()));
}

TEST(SpecJson, NullCountsAsAbsent) {
  json j = toJson(defaultSpec());
  j["hostname"] = nullptr;
  Spec spec = parseOk(j);
  EXPECT_EQ(spec.hostname, "");
}

TEST(SpecJson, TypeProblemsCarryTheirJsonPath) {
  json j = toJson(defaultSpec());
  j["process"]["args"] = {"sh", 7, "x", false};
  j["mounts"][1]["options"] = "nosuid";
  j["linux"]["namespaces"][0]["type"] = 1;
  std::vector<Problem> problems;
  parseSpec(j, problems);
  EXPECT_EQ(
      describeProblems(problems),
      "process.args[1]: must be a string; process.args[3]: must be a string; "
      "mounts[1].options: must be an array of strings; linux.namespaces[0].type: must be a string");
}

TEST(SpecJson, NumbersOutOfRangeAreProblems) {
  json j = toJson(defaultSpec());
  j["process"]["user"]["uid"] = -1;
  j["process"]["user"]["gid"] = 4294967296;
  std::vector<Problem> problems;
  parseSpec(j, problems);
  EXPECT_EQ(
      describeProblems(problems),
      "process.user.uid: must be a non-negative integer; process.user.gid: must fit in 32 bits");
}

TEST(SpecJson, RootMustBeAnObject) {
  std::vector<Problem> problems;
  parseSpec(json::array(), problems);
  EXPECT_TRUE(contains(describeProblems(problems), "must be an object"));
}

TEST(SpecJson, LoadSpecNamesTheFileWhenItIsMissing) {
  test::TempDir bundle;
  std::string message = errorOf([&] { loadSpec(bundle.path()); });
  EXPECT_TRUE(
      contains(message, "open " + bundle.path() + "/config.json: No such file or directory"));
}

TEST(SpecJson, LoadSpecReportsBadJsonSyntax) {
  test::TempDir bundle;
  test::writeFile(bundle / "config.json", "{\"ociVersion\": \"1.0.2\",\n \"process\": {\n");
  std::string message = errorOf([&] { loadSpec(bundle.path()); });
  EXPECT_TRUE(contains(message, "parse " + bundle.path() + "/config.json: "));
  EXPECT_TRUE(contains(message, "syntax error"));
}

struct InvalidCase {
  const char* name;      // tests/golden/oci/invalid/<name>.json
  const char* expected;  // a substring of the error
};

class LoadSpecInvalid : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(LoadSpecInvalid, NamesTheProblem) {
  test::TempDir bundle;
  std::string message = loadError(std::string("invalid/") + GetParam().name + ".json", bundle);
  EXPECT_TRUE(contains(message, "invalid " + bundle.path() + "/config.json: "));
  EXPECT_TRUE(contains(message, GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, LoadSpecInvalid,
    ::testing::Values(
        InvalidCase{"wrong-types", "process.args[1]: must be a string"},
        InvalidCase{"uid-is-a-string", "process.user.uid: must be a non-negative integer"},
        InvalidCase{"missing-process", "process: is required"},
        InvalidCase{"missing-root", "root: is required"},
        InvalidCase{"process-not-an-object", "process: must be an object"},
        InvalidCase{"empty-args", "process.args: args must not be empty"},
        InvalidCase{"relative-cwd", "process.cwd: cwd property must be an absolute path"},
        InvalidCase{"env-without-equals", "process.env[1]: must have the form NAME=value"},
        InvalidCase{"unknown-capability",
                    "process.capabilities.bounding[1]: unknown capability \"CAP_TELEPORT\""},
        InvalidCase{"unknown-rlimit",
                    "process.rlimits[0].type: unknown rlimit type \"RLIMIT_TELEPORTS\""},
        InvalidCase{"rlimit-soft-above-hard",
                    "process.rlimits[0]: soft limit is above the hard limit"},
        InvalidCase{"user-namespace", "linux.namespaces[5]: user namespaces are not supported"},
        InvalidCase{"uid-mappings", "linux.uidMappings: user namespace mappings are not supported"},
        InvalidCase{"hostname-without-uts",
                    "hostname: unable to set hostname without a private UTS namespace"},
        InvalidCase{"join-pid-namespace",
                    "linux.namespaces[0].path: joining an existing pid namespace is not supported"},
        InvalidCase{"duplicate-namespace", "linux.namespaces[5].type: duplicate namespace \"pid\""},
        InvalidCase{"unknown-namespace",
                    "linux.namespaces[5].type: unknown namespace type \"teleport\""},
        InvalidCase{"relative-mount-destination",
                    "mounts[0].destination: must be an absolute path"},
        InvalidCase{"memory-limit-too-small",
                    "linux.resources.memory.limit: minimum memory limit allowed is 6MB"},
        InvalidCase{"hook-timeout-not-a-number", "hooks.prestart[0].timeout: must be an integer"},
        InvalidCase{"seccomp-without-default-action", "linux.seccomp.defaultAction: is required"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

TEST(SpecJson, EveryProblemIsReportedAtOnce) {
  test::TempDir bundle;
  std::string message = loadError("invalid/two-mistakes.json", bundle);
  EXPECT_TRUE(contains(message, "process.args[1]: must be a string; "));
  EXPECT_TRUE(contains(message, "process.cwd: cwd property must be an absolute path"));
}

}  // namespace
}  // namespace runvirt::oci

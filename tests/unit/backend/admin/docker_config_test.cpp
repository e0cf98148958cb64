// libvirt-backend/admin/docker_config.cpp: daemon.json is merged, never clobbered.
#include "admin/docker_config.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

const std::string kPath = "/usr/bin/runvirt";

TEST(DockerConfig, RegistersBothNamesAndKeepsOtherKeysInOrder) {
  DaemonJson config = DaemonJson::parse(
      R"({"log-level":"warn","runtimes":{"runsc":{"path":"/usr/bin/runsc"}},"iptables":true})");
  Registration r = registerRuntimes(config, {"runvirt", "kata"}, kPath, false);
  EXPECT_EQ(r.registered, (std::vector<std::string>{"runvirt", "kata"}));
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_EQ(
      config.dump(),
      R"({"log-level":"warn","runtimes":{"runsc":{"path":"/usr/bin/runsc"},"runvirt":{"path":"/usr/bin/runvirt"},)"
      R"("kata":{"path":"/usr/bin/runvirt"}},"iptables":true})");
}

TEST(DockerConfig, IsIdempotent) {
  DaemonJson config = DaemonJson::object();
  registerRuntimes(config, {"runvirt", "kata"}, kPath, true);
  std::string once = config.dump();
  Registration again = registerRuntimes(config, {"runvirt", "kata"}, kPath, true);
  EXPECT_EQ(config.dump(), once);
  EXPECT_EQ(again.registered.size(), 2u);
  EXPECT_EQ(config["default-runtime"], "runvirt");
}

TEST(DockerConfig, LeavesANameTakenByAnotherRuntime) {
  DaemonJson config =
      DaemonJson::parse(R"({"runtimes":{"kata":{"runtimeType":"io.containerd.kata.v2"}}})");
  Registration r = registerRuntimes(config, {"runvirt", "kata"}, kPath, false);
  EXPECT_EQ(r.registered, std::vector<std::string>{"runvirt"});
  EXPECT_EQ(r.skipped, std::vector<std::string>{"kata"});
  EXPECT_EQ(config["runtimes"]["kata"]["runtimeType"], "io.containerd.kata.v2");
}

TEST(DockerConfig, ReplaceTakesTheNamesOver) {
  DaemonJson config = DaemonJson::parse(
      R"({"runtimes":{"runvirt":{"path":"/old/runvirt"},"kata":{"path":"/old/runvirt"}}})");
  Registration r = registerRuntimes(config, {"runvirt", "kata"}, kPath, false, true);
  EXPECT_EQ(r.registered.size(), 2u);
  EXPECT_EQ(config["runtimes"]["kata"]["path"], kPath);
}

TEST(DockerConfig, UnregisterRemovesOnlyOurRuntimesAndOurDefault) {
  DaemonJson config =
      DaemonJson::parse(R"({"debug":true,"runtimes":{"runsc":{"path":"/usr/bin/runsc"}}})");
  registerRuntimes(config, {"runvirt", "kata"}, kPath, true);
  auto removed = unregisterRuntimes(config, kPath);
  EXPECT_EQ(removed, (std::vector<std::string>{"runvirt", "kata"}));
  EXPECT_EQ(config.dump(), R"({"debug":true,"runtimes":{"runsc":{"path":"/usr/bin/runsc"}}})");
}

TEST(DockerConfig, UnregisterDropsAnEmptyRuntimesObject) {
  DaemonJson config = DaemonJson::parse(R"({"debug":true})");
  registerRuntimes(config, {"runvirt"}, kPath, false);
  unregisterRuntimes(config, kPath);
  EXPECT_EQ(config.dump(), R"({"debug":true})");
}

TEST(DockerConfig, FileRoundTripAndMissingFile) {
  test::TempDir dir;
  std::string file = dir / "docker/daemon.json";
  EXPECT_EQ(readDaemonJson(file).dump(), "{}");
  DaemonJson config = DaemonJson::parse(R"({"b":1,"a":2})");
  registerRuntimes(config, {"runvirt"}, kPath, false);
  writeDaemonJson(file, config);
  EXPECT_EQ(readDaemonJson(file).dump(), config.dump());
  test::writeFile(file, "{broken");
  EXPECT_TRUE(test::contains(test::errorOf([&] { readDaemonJson(file); }), "is not valid JSON"));
}

}  // namespace
}  // namespace runvirt::backend

// libvirt-backend/state/state_store.cpp: <root>/<id>/state.json, strict parsing, effective status.
#include "state/state_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/process_info.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;
using test::errorOf;

ContainerRecord sampleRecord(const std::string& id = "web") {
  ContainerRecord r;
  r.id = id;
  r.bundle = "/run/bundles/web";
  r.rootfs = "/run/bundles/web/rootfs";
  r.created = "2024-01-02T03:04:05.123456789Z";
  r.status = oci::Status::Created;
  r.monitorPid = 4321;
  r.monitorStartTime = 987654321;
  r.domainName = "runvirt-00112233aabbccdd";
  r.vmDir = "/run/runvirt-vms/runvirt-00112233aabbccdd";
  r.annotations = {{"io.example", "x"}};
  r.hooks = {{"poststart", nlohmann::json::array()}, {"poststop", nlohmann::json::array()}};
  return r;
}

TEST(ContainerRecord, JsonRoundTrip) {
  nlohmann::json j = toJson(sampleRecord());
  EXPECT_EQ(j["status"], "created");
  EXPECT_EQ(j["monitorPid"], 4321);
  ContainerRecord parsed = parseRecord(j);
  EXPECT_EQ(toJson(parsed), j);
  EXPECT_EQ(parsed.status, oci::Status::Created);
  EXPECT_EQ(parsed.monitorStartTime, 987654321u);
}

TEST(ContainerRecord, TapsAreKeptWhenThereAreAny) {
  EXPECT_FALSE(toJson(sampleRecord()).contains("taps"));
  ContainerRecord r = sampleRecord();
  r.taps = {"rv0123456789", "rvabcdef0123"};
  nlohmann::json j = toJson(r);
  EXPECT_EQ(j["taps"], nlohmann::json({"rv0123456789", "rvabcdef0123"}));
  EXPECT_EQ(parseRecord(j).taps, r.taps);
}

TEST(ContainerRecord, TapsMustBeRunvirtTapNames) {
  // `delete` removes them from the host: a hand-edited `eth0` must never get that far.
  nlohmann::json j = toJson(sampleRecord());
  j["taps"] = {"rv0123456789", "eth0"};
  EXPECT_EQ(errorOf([&] { parseRecord(j); }),
            "invalid state.json: taps[1]: is not a runvirt tap name");
  j["taps"] = "rv0123456789";
  EXPECT_TRUE(contains(errorOf([&] { parseRecord(j); }), "taps"));
}

TEST(ContainerRecord, UnknownKeyIsRejected) {
  nlohmann::json j = toJson(sampleRecord());
  j["pid"] = 1;
  EXPECT_EQ(errorOf([&] { parseRecord(j); }), "invalid state.json: pid: is not a known field");
}

TEST(ContainerRecord, MissingAndMistypedKeysAreAllNamed) {
  nlohmann::json j = toJson(sampleRecord());
  j.erase("vmDir");
  j["monitorPid"] = "4321";
  std::string message = errorOf([&] { parseRecord(j); });
  EXPECT_TRUE(contains(message, "monitorPid: must be an integer"));
  EXPECT_TRUE(contains(message, "vmDir: is required"));
}

TEST(ContainerRecord, UnknownStatusIsRejected) {
  nlohmann::json j = toJson(sampleRecord());
  j["status"] = "sleeping";
  EXPECT_EQ(errorOf([&] { parseRecord(j); }), "state.json: unknown status `sleeping`");
}

TEST(ContainerRecord, EffectiveStatusFollowsTheMonitor) {
  ContainerRecord r = sampleRecord();
  r.status = oci::Status::Running;
  r.monitorPid = getpid();
  r.monitorStartTime = processStartTime(getpid()).value();
  EXPECT_EQ(r.effectiveStatus(), oci::Status::Running);

  r.monitorStartTime += 1;  // same pid, another process: the pid was reused
  EXPECT_EQ(r.effectiveStatus(), oci::Status::Stopped);

  r.monitorPid = test::deadPid();
  EXPECT_EQ(r.effectiveStatus(), oci::Status::Stopped);
  EXPECT_EQ(r.ociState().pid, 0);
  EXPECT_EQ(r.ociState().status, oci::Status::Stopped);
}

TEST(ContainerRecord, CreatingWithoutAMonitorYetIsStillCreating) {
  ContainerRecord r = sampleRecord();
  r.status = oci::Status::Creating;
  r.monitorPid = 0;
  EXPECT_EQ(r.effectiveStatus(), oci::Status::Creating);
  r.monitorPid = test::deadPid();
  EXPECT_EQ(r.effectiveStatus(), oci::Status::Stopped);
}

TEST(ContainerRecord, OciStateCarriesTheRecord) {
  ContainerRecord r = sampleRecord();
  r.monitorPid = getpid();
  r.monitorStartTime = processStartTime(getpid()).value();
  oci::State s = r.ociState();
  EXPECT_EQ(s.id, "web");
  EXPECT_EQ(s.pid, getpid());
  EXPECT_EQ(s.status, oci::Status::Created);
  EXPECT_EQ(s.bundle, r.bundle);
  EXPECT_EQ(s.rootfs, r.rootfs);
  EXPECT_EQ(s.created, r.created);
  EXPECT_EQ(s.annotations, r.annotations);
}

class StateStoreTest : public ::testing::Test {
 protected:
  test::TempDir dir;
  StateStore store{dir / "root"};
};

TEST_F(StateStoreTest, SaveAndLoad) {
  store.claim("web");
  store.save(sampleRecord());
  EXPECT_TRUE(store.exists("web"));
  EXPECT_EQ(toJson(store.load("web")), toJson(sampleRecord()));
  EXPECT_FALSE(test::exists(store.dir("web") + "/state.json.tmp"));
  struct stat st {};
  ASSERT_EQ(stat((store.dir("web") + "/state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StateStoreTest, ClaimTwice) {
  store.claim("web");
  try {
    store.claim("web");
    FAIL() << "second claim succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "container with given ID already exists");
    EXPECT_EQ(e.kind(), ErrorKind::AlreadyExists);
  }
}

TEST_F(StateStoreTest, LoadOfMissingContainer) {
  try {
    store.load("ghost");
    FAIL() << "load of a missing container succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "container does not exist");
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
  store.claim("claimed");  // a directory without state.json yet
  EXPECT_EQ(errorOf([&] { store.load("claimed"); }), "container does not exist");
}

TEST_F(StateStoreTest, LoadRejectsABadIdAndBadJson) {
  EXPECT_EQ(errorOf([&] { store.load("../web"); }), "invalid container ID format");
  store.claim("web");
  test::writeFile(store.dir("web") + "/state.json", "{\"id\":");
  EXPECT_TRUE(contains(errorOf([&] { store.load("web"); }), "state.json is not valid JSON"));
}

TEST_F(StateStoreTest, IdsListsOnlyDirectoriesWithState) {
  EXPECT_TRUE(store.ids().empty());  // the root does not exist yet
  for (const char* id : {"b", "a"}) {
    store.claim(id);
    store.save(sampleRecord(id));
  }
  store.claim("half-created");
  test::writeFile(dir / "root/stray-file", "x");
  EXPECT_EQ(store.ids(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(StateStoreTest, RemoveDeletesTheDirectory) {
  store.claim("web");
  store.save(sampleRecord());
  test::writeFile(store.dir("web") + "/lock", "");
  store.remove("web");
  EXPECT_FALSE(test::exists(store.dir("web")));
  EXPECT_FALSE(store.exists("web"));
  EXPECT_NO_THROW(store.remove("web"));
}

TEST_F(StateStoreTest, LockOfMissingContainer) {
  EXPECT_EQ(errorOf([&] { store.lock("ghost"); }), "container does not exist");
}

// The state is written through a new temporary of its own and its lock is never opened through a
// symlink: either used to truncate, write or create whatever a symlink there named.
TEST_F(StateStoreTest, SymlinksInTheContainersDirectoryAreNotFollowed) {
  store.claim("web");
  test::writeFile(dir / "victim", "precious");
  ASSERT_EQ(symlink((dir / "victim").c_str(), (store.dir("web") + "/state.json.tmp").c_str()), 0);
  store.save(sampleRecord());
  EXPECT_EQ(test::readFile(dir / "victim"), "precious");
  EXPECT_EQ(toJson(store.load("web")), toJson(sampleRecord()));

  ASSERT_EQ(symlink((dir / "made-by-root").c_str(), (store.dir("web") + "/lock").c_str()), 0);
  EXPECT_EQ(errorOf([&] { store.lock("web"); }),
            "open " + store.dir("web") + "/lock: Too many levels of symbolic links");
  EXPECT_FALSE(test::exists(dir / "made-by-root"));
}

TEST_F(StateStoreTest, TrailingSlashesOfTheRootAreDropped) {
  StateStore slashed(dir / "root//");
  EXPECT_EQ(slashed.root(), dir / "root");
  EXPECT_EQ(slashed.dir("x"), dir / "root/x");
}

}  // namespace
}  // namespace runvirt::backend

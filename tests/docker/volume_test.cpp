// Volumes and the files Docker binds into every container.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "docker/harness.hpp"

namespace runvirt::dockertest {
namespace {

class Volumes : public DockerTest {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rvtest-volume.XXXXXX";
    dir_ = mkdtemp(pattern);
    std::ofstream(dir_ + "/file") << "original\n";
  }
  void TearDown() override {
    DockerTest::TearDown();
    command({"rm", "-rf", dir_});
  }
  std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string dir_;
};

TEST_F(Volumes, ReadWriteBind) {
  for (const auto& runtime : kRuntimes) {
    Result r = docker({"run", "--rm", "--runtime=" + runtime, "--name", name(runtime), "-v",
                       dir_ + ":/data", "busybox", "sh", "-c",
                       "cat /data/file; echo " + runtime + " > /data/" + runtime});
    EXPECT_EQ(r.out, "original\n") << runtime << ": " << r.err;
    EXPECT_EQ(read(dir_ + "/" + runtime), runtime + "\n");
  }
}

TEST_F(Volumes, ReadOnlyBind) {
  Result r = expectSame({"-v", dir_ + ":/data:ro", "busybox", "sh", "-c",
                         "echo changed > /data/file 2>/dev/null || echo refused; cat /data/file"});
  EXPECT_EQ(r.out, "refused\noriginal\n");
}

TEST_F(Volumes, ReadOnlyHoldsAgainstAPrivilegedGuestRoot) {
  // Under runc a privileged container may remount the bind rw; under runvirt the host bind
  // itself is read-only, so the host file cannot change whatever the guest does.
  Result r = docker({"run", "--rm", "--runtime=runvirt", "--privileged", "--name", name("runvirt"),
                     "-v", dir_ + ":/data:ro", "busybox", "sh", "-c",
                     "mount -o remount,rw /data; echo changed > /data/file; cat /data/file"});
  EXPECT_EQ(r.out, "original\n") << r.err;
  EXPECT_EQ(read(dir_ + "/file"), "original\n");
}

TEST_F(Volumes, NamedVolumeOutlivesTheContainer) {
  for (const auto& runtime : kRuntimes) {
    std::string volume = "rvtest-vol-" + runtime;
    docker({"volume", "rm", "-f", volume});
    Result write = docker({"run", "--rm", "--runtime=" + runtime, "--name", name(runtime), "-v",
                           volume + ":/v", "busybox", "sh", "-c", "echo kept > /v/note"});
    EXPECT_EQ(write.status, 0) << write.err;
    Result readBack = docker({"run", "--rm", "--runtime=" + runtime, "--name", name(runtime), "-v",
                              volume + ":/v", "busybox", "cat", "/v/note"});
    EXPECT_EQ(readBack.out, "kept\n") << runtime;
    docker({"volume", "rm", "-f", volume});
  }
}

// A volume file changed on the host while the container runs (in place, as an editor or a
// config reload may) reads as new inside: at once under runc, within virtio-fs's attribute
// timeout (1 s) under runvirt. The container counts its 0.1 s polls.
TEST_F(Volumes, HostChangesReadAsNewInsideLikeRunc) {
  for (const auto& runtime : kRuntimes) {
    { std::ofstream(dir_ + "/file", std::ios::trunc) << "original\n"; }
    startBusybox(runtime, {"-v", dir_ + ":/data"},
                 {"sh", "-c",
                  "cat /data/file > /data/first-" + runtime +
                      "; i=0; while [ \"$(cat /data/file)\" != changed-by-host ] "
                      "&& [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; echo $i > /data/seen-" +
                      runtime + "; sleep 600"});
    auto waitFor = [&](const std::string& path) {
      for (int i = 0; i < 600 && read(path).empty(); ++i) usleep(100 * 1000);
      return read(path);
    };
    EXPECT_EQ(waitFor(dir_ + "/first-" + runtime), "original\n") << runtime;
    { std::ofstream(dir_ + "/file", std::ios::trunc) << "changed-by-host\n"; }
    std::string seen = waitFor(dir_ + "/seen-" + runtime);
    ASSERT_FALSE(seen.empty()) << runtime << " never reported";
    std::printf("[ volumes  ] %s saw the host's change after %s tenths of a second\n",
                runtime.c_str(), trim(seen).c_str());
    EXPECT_LT(std::stoi(seen), 15) << runtime << " kept reading the old content";
  }
}

TEST_F(Volumes, DockerManagedFiles) {
  Result r = expectSame(
      {"--hostname", "myhost", "busybox", "sh", "-c",
       "cat /etc/hostname; grep -c myhost /etc/hosts; test -s /etc/resolv.conf && echo resolv"});
  EXPECT_EQ(r.out, "myhost\n1\nresolv\n");
}

}  // namespace
}  // namespace runvirt::dockertest

// `runvirt run`: the workload's stdio, exit status and kernel are what a runc user expects.
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "integration/harness.hpp"

namespace runvirt::test {
namespace {

class Process : public RuntimeTest {};

// The directory of the guest kernel named in the test config (`kernel = "DIR/vmlinux"`).
std::string guestDir() {
  std::istringstream lines(readFile(runtimeConfig()));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("kernel = \"", 0) == 0) {
      std::string path = line.substr(10, line.size() - 11);
      return path.substr(0, path.rfind('/'));
    }
  }
  ADD_FAILURE() << "no kernel in " << runtimeConfig();
  return "";
}

TEST_F(Process, RelaysStdoutAndStderrSeparately) {
  std::string bundle = makeBundle({"sh", "-c", "echo to-stdout; echo to-stderr >&2"});
  Result r = runvirt({"run", "--bundle", bundle, "io"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "to-stdout\n");
  EXPECT_EQ(r.err, "to-stderr\n");
}

TEST_F(Process, RelaysStdinUntilEndOfFile) {
  std::string bundle = makeBundle({"sh", "-c", "cat; echo done"});
  Result r = runvirt({"run", "--bundle", bundle, "stdin"}, "line one\nline two\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "line one\nline two\ndone\n");
}

TEST_F(Process, LargeOutputArrivesWhole) {
  // 4 MiB through the guest pipe, the agent channel and the monitor.
  std::string bundle = makeBundle({"sh", "-c", "head -c 4194304 /dev/zero | tr '\\0' x"});
  Result r = runvirt({"run", "--bundle", bundle, "big"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.size(), 4194304u);
  EXPECT_EQ(r.out.find_first_not_of('x'), std::string::npos);
}

TEST_F(Process, RunsUnderTheGuestKernel) {
  std::string bundle = makeBundle({"uname", "-r"});
  Result r = runvirt({"run", "--bundle", bundle, "kernel"});
  ASSERT_EQ(r.status, 0) << r.err;
  Result host = runCommand({"uname", "-r"});
  EXPECT_NE(r.out, host.out) << "the container saw the host's kernel";
  // The guest image records the kernel it was built for next to the vmlinux.
  std::string expected = readFile(guestDir() + "/kernel-version");
  while (!expected.empty() && std::isspace(static_cast<unsigned char>(expected.back())))
    expected.pop_back();
  EXPECT_EQ(r.out, expected + "\n");
}

TEST_F(Process, ExitCodePassesThrough) {
  std::string bundle = makeBundle({"sh", "-c", "exit 3"});
  EXPECT_EQ(runvirt({"run", "--bundle", bundle, "exit3"}).status, 3);
}

TEST_F(Process, DeathBySignalGives128PlusN) {
  // Without a pid namespace the process is not an init, so its own SIGTERM kills it (as with runc).
  // (The network namespace stays: runvirt refuses host networking.)
  std::string bundle = makeBundle({"sh", "-c", "kill -TERM $$; sleep 5"}, [](nlohmann::json& c) {
    c["linux"]["namespaces"] = {
        {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, {{"type", "network"}}};
  });
  EXPECT_EQ(runvirt({"run", "--bundle", bundle, "term"}).status, 128 + 15);
}

TEST_F(Process, ProcessSpecIsApplied) {
  std::string bundle =
      makeBundle({"sh", "-c", "echo $$ $(id -u):$(id -g) $(pwd) $(hostname) $GREETING"},
                 [](nlohmann::json& c) {
                   c["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
                   c["process"]["cwd"] = "/tmp";
                   c["process"]["env"].push_back("GREETING=hello");
                   c["hostname"] = "guesthost";
                 });
  Result r = runvirt({"run", "--bundle", bundle, "spec"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1 1000:1000 /tmp guesthost hello\n");
}

TEST_F(Process, UsernameIsLookedUpInTheContainer) {
  std::string bundle = makeBundle({"id", "-u"}, [](nlohmann::json& c) {
    c["process"]["user"] = {{"uid", 0}, {"gid", 0}, {"username", "user"}};
  });
  Result r = runvirt({"run", "--bundle", bundle, "username"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1000\n");
}

TEST_F(Process, ContainerSeesOnlyItsOwnProcesses) {
  std::string bundle = makeBundle({"sh", "-c", "ls /proc | grep -c '^[0-9]'"});
  Result r = runvirt({"run", "--bundle", bundle, "pidns"});
  EXPECT_EQ(r.status, 0) << r.err;
  // sh, ls and grep: no agent, no kernel threads.
  EXPECT_EQ(r.out, "3\n");
}

TEST_F(Process, ReadonlyRootCannotBeWritten) {
  std::string bundle =
      makeBundle({"sh", "-c", "touch /x 2>/dev/null && echo wrote || echo refused"},
                 [](nlohmann::json& c) { c["root"]["readonly"] = true; });
  Result r = runvirt({"run", "--bundle", bundle, "rootro"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "refused\n");
  EXPECT_FALSE(exists(bundle + "/rootfs/x"));
}

// Full capabilities: a guest root that remounts / read-write still cannot write the host's
// rootfs (virtiofsd is handed a read-only bind). Mount points missing from the image are made on
// the host before the seal, as runc does, without leaving the rootfs by a symlink.
TEST_F(Process, ReadonlyRootIsEnforcedOnTheHost) {
  std::string volume = makeTempDir("runvirt-volume");
  std::string outside = makeTempDir("runvirt-outside");
  std::string bundle = makeBundle(
      {"sh", "-c",
       "mount -o remount,rw /; echo changed > /x; mount -o remount,rw /etc 2>/dev/null; "
       "echo changed > /etc/newfile; ls -d /new/dir /link/made"},
      [&](nlohmann::json& c) {
        c["root"]["readonly"] = true;
        c["process"].erase("capabilities");
        c["process"]["noNewPrivileges"] = false;
        for (const char* destination : {"/new/dir", "/link/made"})
          c["mounts"].push_back({{"destination", destination},
                                 {"type", "bind"},
                                 {"source", volume},
                                 {"options", {"rbind", "ro"}}});
      });
  // An absolute symlink in the image points at a host directory: it resolves inside the rootfs.
  ASSERT_EQ(symlink(outside.c_str(), (bundle + "/rootfs/link").c_str()), 0);
  Result r = runvirt({"run", "--bundle", bundle, "rootseal"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "/link/made\n/new/dir\n") << r.err;
  EXPECT_FALSE(exists(bundle + "/rootfs/x"));
  EXPECT_FALSE(exists(bundle + "/rootfs/etc/newfile"));
  EXPECT_FALSE(exists(outside + "/made")) << "a mount point was made outside the rootfs";
  EXPECT_TRUE(exists(bundle + "/rootfs" + outside + "/made"));
  removeTree(volume);
  removeTree(outside);
}

TEST_F(Process, WritesToTheRootfsReachTheHost) {
  std::string bundle = makeBundle({"sh", "-c", "echo from-guest > /root/note"});
  ASSERT_EQ(runvirt({"run", "--bundle", bundle, "rootrw"}).status, 0);
  EXPECT_EQ(readFile(bundle + "/rootfs/root/note"), "from-guest\n");
}

TEST_F(Process, ReadonlyBindMountIsEnforcedOnTheHost) {
  std::string volume = makeTempDir("runvirt-volume");
  { std::ofstream(volume + "/file") << "original\n"; }
  // Full capabilities: the guest may remount, but the host bind stays read-only.
  std::string bundle = makeBundle(
      {"sh", "-c", "mount -o remount,rw /data; echo changed > /data/file; cat /data/file"},
      [&](nlohmann::json& c) {
        c["process"].erase("capabilities");
        c["process"]["noNewPrivileges"] = false;
        c["mounts"].push_back({{"destination", "/data"},
                               {"type", "bind"},
                               {"source", volume},
                               {"options", {"rbind", "ro"}}});
      });
  Result r = runvirt({"run", "--bundle", bundle, "volro"});
  EXPECT_EQ(r.out, "original\n") << r.err;
  EXPECT_EQ(readFile(volume + "/file"), "original\n");
  removeTree(volume);
}

TEST_F(Process, ReadWriteBindMountIsShared) {
  std::string volume = makeTempDir("runvirt-volume");
  std::string bundle =
      makeBundle({"sh", "-c", "echo from-guest > /data/out"}, [&](nlohmann::json& c) {
        c["mounts"].push_back({{"destination", "/data"},
                               {"type", "bind"},
                               {"source", volume},
                               {"options", {"rbind"}}});
      });
  EXPECT_EQ(runvirt({"run", "--bundle", bundle, "volrw"}).status, 0);
  EXPECT_EQ(readFile(volume + "/out"), "from-guest\n");
  removeTree(volume);
}

// A volume is shared with the world: a change made on the host (in place, or a file renamed
// over it as editors and config reloads do) reads as new in the guest within a second, even
// after the guest has read the old content. The guest counts 0.1 s waits until it sees it.
TEST_F(Process, HostChangesToAVolumeReadAsNewInTheGuest) {
  std::string volume = makeTempDir("runvirt-volume");
  { std::ofstream(volume + "/file") << "v1\n"; }
  const std::string waitFor =
      "i=0; while [ \"$(cat /data/file)\" != \"$1\" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); "
      "done; ";
  std::string bundle = makeBundle({"sh", "-c",
                                   "cat /data/file > /data/first; " + waitFor +
                                       "echo $i > /data/in-place; "
                                       "set -- three; " +
                                       waitFor + "echo $i > /data/renamed; sleep 600",
                                   "sh", "version-two"},
                                  [&](nlohmann::json& c) {
                                    c["mounts"].push_back({{"destination", "/data"},
                                                           {"type", "bind"},
                                                           {"source", volume},
                                                           {"options", {"rbind"}}});
                                  });
  ASSERT_EQ(runvirt({"create", "--bundle", bundle, "coherent"}).status, 0);
  ASSERT_EQ(runvirt({"start", "coherent"}).status, 0);
  auto waitForFile = [](const std::string& path) {
    for (int i = 0; i < 600 && !exists(path); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return exists(path);
  };
  ASSERT_TRUE(waitForFile(volume + "/first")) << "the guest never read the volume";
  EXPECT_EQ(readFile(volume + "/first"), "v1\n");
  { std::ofstream(volume + "/file", std::ios::trunc) << "version-two\n"; }  // same inode, new size
  ASSERT_TRUE(waitForFile(volume + "/in-place"));
  { std::ofstream(volume + "/file.new") << "three\n"; }
  ASSERT_EQ(std::rename((volume + "/file.new").c_str(), (volume + "/file").c_str()), 0);
  ASSERT_TRUE(waitForFile(volume + "/renamed"));
  std::string inPlace = readFile(volume + "/in-place"), renamed = readFile(volume + "/renamed");
  std::printf("[ volumes  ] the guest saw a host change after %s and %s tenths of a second\n",
              inPlace.substr(0, inPlace.size() - 1).c_str(),
              renamed.substr(0, renamed.size() - 1).c_str());
  EXPECT_LT(std::stoi(inPlace), 15)
      << "a change in place was not seen within the attribute timeout (1 s) and a poll";
  EXPECT_LT(std::stoi(renamed), 15)
      << "a file renamed over was not seen within the attribute timeout (1 s) and a poll";
  EXPECT_EQ(runvirt({"delete", "--force", "coherent"}).status, 0);
  removeTree(volume);
}

}  // namespace
}  // namespace runvirt::test

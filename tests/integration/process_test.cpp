// `runvirt run`: the workload's stdio, exit status and kernel are what a runc user expects.
#include <cctype>
#include <fstream>
#include <sstream>

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
  while (!expected.empty() && std::isspace(static_cast<unsigned char>(expected.back()))) expected.pop_back();
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
    c["linux"]["namespaces"] = {{{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, {{"type", "network"}}};
  });
  EXPECT_EQ(runvirt({"run", "--bundle", bundle, "term"}).status, 128 + 15);
}

TEST_F(Process, ProcessSpecIsApplied) {
  std::string bundle = makeBundle({"sh", "-c", "echo $$ $(id -u):$(id -g) $(pwd) $(hostname) $GREETING"},
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
  std::string bundle = makeBundle({"sh", "-c", "touch /x 2>/dev/null && echo wrote || echo refused"},
                                  [](nlohmann::json& c) { c["root"]["readonly"] = true; });
  Result r = runvirt({"run", "--bundle", bundle, "rootro"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "refused\n");
  EXPECT_FALSE(exists(bundle + "/rootfs/x"));
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
        c["mounts"].push_back({{"destination", "/data"}, {"type", "bind"}, {"source", volume},
                               {"options", {"rbind", "ro"}}});
      });
  Result r = runvirt({"run", "--bundle", bundle, "volro"});
  EXPECT_EQ(r.out, "original\n") << r.err;
  EXPECT_EQ(readFile(volume + "/file"), "original\n");
  removeTree(volume);
}

TEST_F(Process, ReadWriteBindMountIsShared) {
  std::string volume = makeTempDir("runvirt-volume");
  std::string bundle = makeBundle({"sh", "-c", "echo from-guest > /data/out"}, [&](nlohmann::json& c) {
    c["mounts"].push_back({{"destination", "/data"}, {"type", "bind"}, {"source", volume}, {"options", {"rbind"}}});
  });
  EXPECT_EQ(runvirt({"run", "--bundle", bundle, "volrw"}).status, 0);
  EXPECT_EQ(readFile(volume + "/out"), "from-guest\n");
  removeTree(volume);
}

}  // namespace
}  // namespace runvirt::test

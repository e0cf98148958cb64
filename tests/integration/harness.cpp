#include "integration/harness.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace runvirt::test {

namespace fs = std::filesystem;

std::string runtimeBinary() {
  const char* env = std::getenv("RUNVIRT_BIN");
  return env && *env ? env : fs::absolute("build/runvirt").string();
}

std::string runtimeConfig() {
  const char* env = std::getenv("RUNVIRT_TEST_CONFIG");
  return env && *env ? env : fs::absolute("build/test-config.toml").string();
}

std::string makeTempDir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + ".XXXXXX";
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp");
  return pattern;
}

void removeTree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

void makeBusyboxRootfs(const std::string& dir) {
  for (const char* sub : {"bin", "etc", "tmp", "root", "proc", "sys", "dev", "home/user"}) {
    fs::create_directories(dir + "/" + sub);
  }
  fs::copy_file("/bin/busybox", dir + "/bin/busybox", fs::copy_options::overwrite_existing);
  Result list = runCommand({"/bin/busybox", "--list"});
  std::istringstream applets(list.out);
  for (std::string applet; applets >> applet;) {
    if (applet != "busybox") fs::create_symlink("busybox", dir + "/bin/" + applet);
  }
  std::ofstream(dir + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                     << "user:x:1000:1000:user:/home/user:/bin/sh\n";
  std::ofstream(dir + "/etc/group") << "root:x:0:\nuser:x:1000:\n";
}

nlohmann::json baseConfig(const std::vector<std::string>& args) {
  return {
      {"ociVersion", "1.0.2-dev"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", args},
        {"env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", false}}},
      {"hostname", "runvirt-test"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
        {{"destination", "/dev/shm"},
         {"type", "tmpfs"},
         {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"},
         {"type", "mqueue"},
         {"source", "mqueue"},
         {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"},
         {"type", "sysfs"},
         {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
      {"linux",
       {{"namespaces",
         {{{"type", "pid"}},
          {{"type", "network"}},
          {{"type", "ipc"}},
          {{"type", "uts"}},
          {{"type", "mount"}}}},
        {"maskedPaths", {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
}

void RuntimeTest::SetUpTestSuite() {
  // The daemons are started by tests/integration/run.sh; here they must answer.
  Result version = runCommand({"virsh", "-c", "qemu:///system", "version"}, "", 30);
  ASSERT_EQ(version.status, 0) << "libvirtd is not reachable: " << version.err;
  ASSERT_TRUE(exists(runtimeBinary())) << runtimeBinary();
  ASSERT_TRUE(exists(runtimeConfig()))
      << runtimeConfig() << " (written by tests/integration/run.sh)";
}

void RuntimeTest::SetUp() {
  scratch_ = makeTempDir("runvirt-it");
  root_ = scratch_ + "/root";
  log_ = scratch_ + "/log.json";
}

void RuntimeTest::TearDown() {
  Result list = runvirt({"list", "-q"});
  std::istringstream ids(list.out);
  for (std::string id; ids >> id;) {
    seen_.push_back(record(id));
    runvirt({"delete", "--force", id});
  }
  for (const auto& r : seen_) expectNothingLeft(r);
  removeTree(scratch_);
}

Result RuntimeTest::runvirt(const std::vector<std::string>& args, const std::string& input,
                            double timeout) {
  std::vector<std::string> argv = {
      runtimeBinary(), "--root", root_,      "--log",         log_,
      "--log-format",  "json",   "--config", runtimeConfig(), "--debug"};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, input, timeout);
}

std::string RuntimeTest::makeBundle(const std::vector<std::string>& args,
                                    const std::function<void(nlohmann::json&)>& edit) {
  static int counter = 0;
  std::string bundle = scratch_ + "/bundle" + std::to_string(++counter);
  makeBusyboxRootfs(bundle + "/rootfs");
  nlohmann::json config = baseConfig(args);
  if (edit) edit(config);
  std::ofstream(bundle + "/config.json") << config.dump(2);
  return bundle;
}

nlohmann::json RuntimeTest::record(const std::string& id) {
  auto text = readFile(root_ + "/" + id + "/state.json");
  auto json = nlohmann::json::parse(text, nullptr, false);
  return json.is_discarded() ? nlohmann::json::object() : json;
}

nlohmann::json RuntimeTest::state(const std::string& id) {
  Result r = runvirt({"state", id});
  EXPECT_EQ(r.status, 0) << r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << r.out;
  return json;
}

void RuntimeTest::expectNothingLeft(const nlohmann::json& r) {
  if (!r.contains("id")) return;
  std::string domain = r.value("domainName", "");
  std::string vmDir = r.value("vmDir", "");
  Result domains = runCommand({"virsh", "-c", "qemu:///system", "list", "--all", "--name"});
  EXPECT_EQ(domains.out.find(domain), std::string::npos) << "domain " << domain << " left behind";
  EXPECT_FALSE(exists(vmDir)) << vmDir << " left behind";
  EXPECT_EQ(readFile("/proc/self/mountinfo").find(vmDir), std::string::npos)
      << "mount under " << vmDir;
  EXPECT_FALSE(exists(root_ + "/" + r.value("id", ""))) << "state dir left behind";
  int pid = r.value("monitorPid", 0);
  if (pid > 0) {
    std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    std::string started = std::to_string(r.value("monitorStartTime", 0ull));
    auto close = stat.rfind(')');
    bool zombie = close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
    // A reused pid or an exited monitor not yet reaped by its parent is fine.
    EXPECT_TRUE(stat.empty() || zombie || stat.find(" " + started + " ") == std::string::npos)
        << "monitor " << pid << " still running";
  }
}

nlohmann::json RuntimeTest::lastLogLine() {
  std::istringstream lines(readFile(log_));
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  auto json = nlohmann::json::parse(last, nullptr, false);
  return json.is_discarded() ? nlohmann::json::object() : json;
}

}  // namespace runvirt::test

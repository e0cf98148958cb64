// libvirt-backend/admin/host_check.cpp: the verdicts of `runvirt check`, one table per check.
#include "admin/host_check.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;

TEST(HostCheck, FormatAndSummary) {
  EXPECT_EQ(formatCheck({"libvirt", CheckStatus::Ok, "up"}), "ok    libvirt: up");
  EXPECT_EQ(formatCheck({"docker", CheckStatus::Warn, "x"}), "WARN  docker: x");
  EXPECT_EQ(formatCheck({"qemu", CheckStatus::Fail, "y"}), "FAIL  qemu: y");
  EXPECT_TRUE(allPassed({{"a", CheckStatus::Ok, ""}, {"b", CheckStatus::Warn, ""}}));
  EXPECT_FALSE(allPassed({{"a", CheckStatus::Ok, ""}, {"b", CheckStatus::Fail, ""}}));
}

TEST(HostCheck, VersionFromBanner) {
  EXPECT_EQ(versionFromBanner("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"),
            "7.2.22");
  EXPECT_EQ(versionFromBanner("virtiofsd version 7.2.22 (Debian)"), "7.2.22");
  EXPECT_EQ(versionFromBanner("Docker version 20.10.24+dfsg1, build 5d6db84"), "20.10.24+dfsg1");
  EXPECT_EQ(versionFromBanner("something 1.0"), "something 1.0");
}

TEST(HostCheck, Programs) {
  EXPECT_EQ(judgeProgram("qemu", {"/usr/bin/q", true, "QEMU emulator version 7.2", ""}).status,
            CheckStatus::Ok);
  CheckResult missing = judgeProgram("virtiofsd", {"/nope", false, "", ""});
  EXPECT_EQ(missing.status, CheckStatus::Fail);
  EXPECT_TRUE(contains(missing.detail, "/nope is missing or not executable"));
  CheckResult broken =
      judgeProgram("qemu", {"/q", true, "", "--version did not finish within 2 s"});
  EXPECT_EQ(broken.status, CheckStatus::Fail);
  EXPECT_TRUE(contains(broken.detail, "did not finish"));
}

TEST(HostCheck, ConfigAndLibvirt) {
  RuntimeConfig defaults;
  EXPECT_TRUE(contains(judgeConfig(defaults, "").detail, "built-in defaults"));
  defaults.source = "/etc/runvirt/config.toml";
  EXPECT_EQ(judgeConfig(defaults, "").detail, "/etc/runvirt/config.toml");
  CheckResult bad = judgeConfig(RuntimeConfig{},
                                "/etc/runvirt/config.toml:3: hypervisor.memory is not a known key");
  EXPECT_EQ(bad.status, CheckStatus::Fail);
  EXPECT_TRUE(contains(bad.detail, "config.toml:3: hypervisor.memory"));
  EXPECT_EQ(judgeLibvirt("qemu:///system", "libvirt 9.0.0, QEMU 7.2.22", "").detail,
            "qemu:///system answers (libvirt 9.0.0, QEMU 7.2.22)");
  EXPECT_EQ(judgeLibvirt("qemu:///system", "", "connect to libvirt").status, CheckStatus::Fail);
}

KvmFacts thisMachine() {
  KvmFacts f;
  f.cpuHasVirtualization = false;
  f.devKvmUsable = true;
  f.devKvmDetail = "opens (API 12)";
  f.probeRan = true;
  f.probeDetail = "a test guest ran and halted";
  f.bootProbeRan = false;
  f.bootProbeDetail =
      "the guest kernel printed nothing within 3.0 s under QEMU with kvm (guests hang on this "
      "/dev/kvm)";
  return f;
}

TEST(HostCheck, AcceleratorOnThisProjectsMachinesIsTcgWithEveryReason) {
  CheckResult r = judgeAccelerator(AcceleratorChoice::Auto, thisMachine());
  EXPECT_EQ(r.status, CheckStatus::Ok);
  EXPECT_EQ(r.detail.rfind("tcg: the CPU flags show no vmx/svm", 0), 0u) << r.detail;
  EXPECT_TRUE(contains(r.detail, "/dev/kvm: opens (API 12)"));
  EXPECT_TRUE(contains(r.detail, "hlt probe: a test guest ran and halted"));
  EXPECT_TRUE(contains(r.detail, "boot probe: the guest kernel printed nothing within 3.0 s"));
}

TEST(HostCheck, ConfiguredKvmThatHangsFails) {
  KvmFacts f = thisMachine();
  f.cpuHasVirtualization = true;  // even with the flags, the boot probe says no
  CheckResult r = judgeAccelerator(AcceleratorChoice::Kvm, f);
  EXPECT_EQ(r.status, CheckStatus::Fail);
  EXPECT_TRUE(contains(r.detail, "kvm is chosen in the configuration but is not usable here"));
  EXPECT_TRUE(contains(r.detail, "guests hang on this /dev/kvm"));
  EXPECT_EQ(judgeAccelerator(AcceleratorChoice::Tcg, f).status, CheckStatus::Ok);
  f.bootProbeRan = true;
  f.bootProbeDetail = "the guest kernel booted on kvm (banner after 0.3 s)";
  CheckResult good = judgeAccelerator(AcceleratorChoice::Kvm, f);
  EXPECT_EQ(good.status, CheckStatus::Ok);
  EXPECT_EQ(judgeAccelerator(AcceleratorChoice::Auto, f).detail.rfind("kvm: vmx/svm present", 0),
            0u);
}

GuestImageFacts goodImage() {
  GuestImageFacts f;
  f.kernelPath = "/g/vmlinux";
  f.initrdPath = "/g/initrd.img";
  f.kernelRelease = "6.1.0-56-cloud-amd64";
  f.kernelPvh = true;
  f.kernelWorldReadable = true;
  f.initrdHasAgent = true;
  f.modules = {"virtio.ko", "virtiofs.ko"};
  f.moduleReleases = {"6.1.0-56-cloud-amd64"};
  f.initrdWorldReadable = true;
  f.recordedRelease = "6.1.0-56-cloud-amd64";
  return f;
}

// The runvirt guest kernel: drivers built in, an initrd with the agent only.
void builtinDriversKernel(GuestImageFacts& f) {
  f.kernelRelease = "6.1.192-runvirt";
  f.kernelHasBuiltinVirtiofs = true;
  f.modules.clear();
  f.moduleReleases.clear();
  f.recordedRelease = "6.1.192-runvirt";
}

struct ImageRow {
  const char* name;
  void (*change)(GuestImageFacts&);
  CheckStatus kernel;
  CheckStatus initrd;
  const char* detail;  // in the failing (or else the initrd's) line
};

void PrintTo(const ImageRow& row, std::ostream* os) { *os << row.name; }

class GuestImageVerdict : public ::testing::TestWithParam<ImageRow> {};

TEST_P(GuestImageVerdict, Table) {
  GuestImageFacts f = goodImage();
  GetParam().change(f);
  auto r = judgeGuestImage(f, "libvirt-qemu", "build-guest-image ...");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "guest kernel");
  EXPECT_EQ(r[1].name, "guest initrd");
  EXPECT_EQ(r[0].status, GetParam().kernel) << r[0].detail;
  EXPECT_EQ(r[1].status, GetParam().initrd) << r[1].detail;
  const CheckResult& shown = r[0].status != CheckStatus::Ok ? r[0] : r[1];
  EXPECT_TRUE(contains(shown.detail, GetParam().detail));
}

INSTANTIATE_TEST_SUITE_P(
    Rows, GuestImageVerdict,
    ::testing::Values(
        ImageRow{"good", [](GuestImageFacts&) {}, CheckStatus::Ok, CheckStatus::Ok,
                 "/g/initrd.img (agent + 2 modules for 6.1.0-56-cloud-amd64, matching the kernel)"},
        ImageRow{"kernel_missing",
                 [](GuestImageFacts& f) { f.kernelError = "open /g/vmlinux: No such file"; },
                 CheckStatus::Fail, CheckStatus::Ok,
                 "open /g/vmlinux: No such file; rebuild: build-guest-image"},
        ImageRow{"not_a_kernel", [](GuestImageFacts& f) { f.kernelRelease = ""; },
                 CheckStatus::Fail, CheckStatus::Ok, "holds no Linux banner"},
        ImageRow{"bzimage", [](GuestImageFacts& f) { f.kernelPvh = false; }, CheckStatus::Fail,
                 CheckStatus::Ok, "no PVH entry point"},
        ImageRow{"kernel_private", [](GuestImageFacts& f) { f.kernelWorldReadable = false; },
                 CheckStatus::Fail, CheckStatus::Ok,
                 "QEMU runs as libvirt-qemu and cannot read it"},
        ImageRow{"initrd_missing",
                 [](GuestImageFacts& f) { f.initrdError = "open /g/initrd.img: No such file"; },
                 CheckStatus::Ok, CheckStatus::Fail, "open /g/initrd.img"},
        ImageRow{"no_agent", [](GuestImageFacts& f) { f.initrdHasAgent = false; }, CheckStatus::Ok,
                 CheckStatus::Fail, "no executable /init"},
        ImageRow{"no_modules",
                 [](GuestImageFacts& f) {
                   f.modules.clear();
                   f.moduleReleases.clear();
                 },
                 CheckStatus::Ok, CheckStatus::Fail, "holds no kernel modules"},
        ImageRow{"other_kernel",
                 [](GuestImageFacts& f) { f.moduleReleases = {"6.1.0-55-cloud-amd64"}; },
                 CheckStatus::Ok, CheckStatus::Fail,
                 "holds modules for 6.1.0-55-cloud-amd64 but the kernel is 6.1.0-56-cloud-amd64"},
        ImageRow{"mixed",
                 [](GuestImageFacts& f) {
                   f.moduleReleases = {"a", "b"};
                 },
                 CheckStatus::Ok, CheckStatus::Fail, "mixes modules of kernels a, b"},
        ImageRow{"initrd_private", [](GuestImageFacts& f) { f.initrdWorldReadable = false; },
                 CheckStatus::Ok, CheckStatus::Fail, "not world-readable"},
        ImageRow{"stale_kernel_version",
                 [](GuestImageFacts& f) { f.recordedRelease = "6.1.0-1-cloud-amd64"; },
                 CheckStatus::Ok, CheckStatus::Warn, "kernel-version says `6.1.0-1-cloud-amd64`"},
        ImageRow{"no_kernel_version", [](GuestImageFacts& f) { f.recordedRelease.reset(); },
                 CheckStatus::Ok, CheckStatus::Ok, "matching the kernel"},
        ImageRow{"builtin_drivers", [](GuestImageFacts& f) { builtinDriversKernel(f); },
                 CheckStatus::Ok, CheckStatus::Ok,
                 "/g/initrd.img (agent; 6.1.192-runvirt has its virtio drivers built in)"},
        ImageRow{"builtin_drivers_stale_kernel_version",
                 [](GuestImageFacts& f) {
                   builtinDriversKernel(f);
                   f.recordedRelease = "6.1.0-56-cloud-amd64";
                 },
                 CheckStatus::Ok, CheckStatus::Warn, "kernel-version says `6.1.0-56-cloud-amd64`"},
        ImageRow{"builtin_drivers_private",
                 [](GuestImageFacts& f) {
                   builtinDriversKernel(f);
                   f.initrdWorldReadable = false;
                 },
                 CheckStatus::Ok, CheckStatus::Fail, "not world-readable"}),
    [](const ::testing::TestParamInfo<ImageRow>& info) { return std::string(info.param.name); });

TEST(HostCheck, RebuildCommandFollowsTheInstallPrefix) {
  EXPECT_EQ(guestImageRebuildCommand("/usr/bin/runvirt", "/var/lib/runvirt/guest"),
            "/usr/lib/runvirt/build-guest-image --agent /usr/lib/runvirt/runvirt-agent --out "
            "/var/lib/runvirt/guest");
  EXPECT_EQ(guestImageRebuildCommand("/usr/local/bin/runvirt", "/g"),
            "/usr/local/lib/runvirt/build-guest-image --agent /usr/local/lib/runvirt/runvirt-agent "
            "--out /g");
}

DockerFacts docker(const std::string& json) {
  DockerFacts f;
  f.installed = true;
  f.running = true;
  f.daemonJsonPath = "/etc/docker/daemon.json";
  f.daemonJson = DaemonJson::parse(json);
  f.selfPath = "/usr/bin/runvirt";
  return f;
}

TEST(HostCheck, DockerRegistered) {
  CheckResult r = judgeDocker(docker(R"({"runtimes": {"runvirt": {"path": "/usr/bin/runvirt"},
                                                      "kata": {"path": "/usr/bin/runvirt"},
                                                      "crun": {"path": "/usr/bin/crun"}}})"));
  EXPECT_EQ(r.status, CheckStatus::Ok);
  EXPECT_EQ(
      r.detail,
      "runtimes runvirt, kata -> /usr/bin/runvirt in /etc/docker/daemon.json; dockerd running");
}

TEST(HostCheck, DockerWithoutThisRunvirtWarns) {
  CheckResult r = judgeDocker(docker(R"({"log-level": "info"})"));
  EXPECT_EQ(r.status, CheckStatus::Warn);
  EXPECT_TRUE(contains(r.detail, "this runvirt (/usr/bin/runvirt) is not registered"));
  EXPECT_TRUE(contains(r.detail, "`runvirt install-docker`"));
  DockerFacts noFile = docker("{}");
  noFile.daemonJson.reset();
  noFile.running = false;
  EXPECT_TRUE(contains(judgeDocker(noFile).detail, "dockerd not running"));
}

TEST(HostCheck, DockerNamesAMissingRunvirt) {
  CheckResult r =
      judgeDocker(docker(R"({"runtimes": {"kata": {"path": "/nonexistent/runvirt"}}})"));
  EXPECT_EQ(r.status, CheckStatus::Warn);
  EXPECT_TRUE(contains(r.detail, "names missing runtimes: kata -> /nonexistent/runvirt"));
}

TEST(HostCheck, DockerAbsentOrBroken) {
  DockerFacts none;
  none.selfPath = "/usr/bin/runvirt";
  EXPECT_EQ(judgeDocker(none).status, CheckStatus::Ok);
  EXPECT_TRUE(contains(judgeDocker(none).detail, "not installed"));
  DockerFacts broken = docker("{}");
  broken.daemonJsonError = "/etc/docker/daemon.json is not valid JSON: fix or remove it first";
  EXPECT_EQ(judgeDocker(broken).status, CheckStatus::Warn);
}

constexpr const char* kHybridMounts =
    "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
    "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
    "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,xattr,release_agent=/x,name=systemd 0 0\n"
    "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n";

TEST(HostCheck, CgroupMounts) {
  auto mounts = parseCgroupMounts(kHybridMounts);
  ASSERT_EQ(mounts.size(), 4u);
  EXPECT_EQ(mounts[0].controllers, std::vector<std::string>{"cpu"});
  EXPECT_EQ(mounts[1].controllers, std::vector<std::string>{"memory"});
  EXPECT_EQ(mounts[2].controllers, std::vector<std::string>{"name=systemd"});
  EXPECT_TRUE(mounts[3].unified);
  CheckResult r = judgeCgroups(mounts);
  EXPECT_EQ(r.status, CheckStatus::Ok);
  EXPECT_EQ(
      r.detail,
      "v1 + v2 (hybrid): v1 hierarchies cpu memory name=systemd; cgroup2 at /sys/fs/cgroup/unified "
      "(no controllers)");
}

TEST(HostCheck, CgroupVerdicts) {
  CgroupMount v2{"/sys/fs/cgroup", true, {"cpu", "memory", "pids"}};
  EXPECT_EQ(judgeCgroups({v2}).detail, "v2: cgroup2 at /sys/fs/cgroup (cpu memory pids)");
  EXPECT_EQ(judgeCgroups({}).status, CheckStatus::Fail);
  CgroupMount noMemory{"/sys/fs/cgroup", true, {"cpu", "pids"}};
  EXPECT_EQ(judgeCgroups({noMemory}).status, CheckStatus::Warn);
}

}  // namespace
}  // namespace runvirt::backend

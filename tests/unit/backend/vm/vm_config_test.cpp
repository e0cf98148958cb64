// libvirt-backend/vm/vm_config.cpp: VM sizing from the spec and the guest command line.
#include "vm/vm_config.hpp"

#include <gtest/gtest.h>

#include "runvirt/oci/spec_json.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;

const VmIdentity kIdentity{"runvirt-0011223344556677",
                           {VmOwner::Kind::Container, "web", "/run/runvirt", 4242, 99},
                           {"/run/runvirt-vms/runvirt-0011223344556677"}};

oci::Spec withCpu(std::optional<std::int64_t> quota, std::optional<std::uint64_t> period) {
  oci::Spec spec = oci::defaultSpec();
  oci::CpuResources cpu;
  cpu.quota = quota;
  cpu.period = period;
  spec.linux->resources = oci::Resources{{}, cpu, {}, {}};
  return spec;
}

oci::Spec withMemory(std::int64_t limit) {
  oci::Spec spec = oci::defaultSpec();
  spec.linux->resources = oci::Resources{oci::MemoryResources{limit, {}, {}}, {}, {}, {}};
  return spec;
}

VmConfig plan(const oci::Spec& spec, unsigned hostCpus = 8, bool debug = false) {
  return planVm(spec, RuntimeConfig{}, kIdentity, Accelerator::Tcg,
                HostFacts{hostCpus, hostTscKhz()}, debug);
}

TEST(PlanVm, DefaultsWithoutResources) {
  RuntimeConfig config;
  config.defaultVcpus = 2;
  config.defaultMemoryMiB = 768;
  VmConfig vm =
      planVm(oci::defaultSpec(), config, kIdentity, Accelerator::Kvm, HostFacts{8}, false);
  EXPECT_EQ(vm.vcpus, 2u);
  EXPECT_EQ(vm.memoryMiB, 768u);
  EXPECT_EQ(vm.accelerator, Accelerator::Kvm);
  EXPECT_EQ(vm.name, kIdentity.name);
  EXPECT_EQ(vm.owner, kIdentity.owner);
  EXPECT_EQ(vm.paths.agentSocket(), "/run/runvirt-vms/runvirt-0011223344556677/agent.sock");
  EXPECT_EQ(vm.kernel, config.kernel);
  EXPECT_EQ(vm.qemuUser, config.qemuUser);
}

TEST(PlanVm, CpuQuotaRoundsUpToWholeVcpus) {
  EXPECT_EQ(plan(withCpu(150000, 100000)).vcpus, 2u);
  EXPECT_EQ(plan(withCpu(100000, 100000)).vcpus, 1u);
  EXPECT_EQ(plan(withCpu(1000, 100000)).vcpus, 1u);
  EXPECT_EQ(plan(withCpu(250000, 100000)).vcpus, 3u);
}

TEST(PlanVm, CpuQuotaIsCappedByHostCpus) {
  EXPECT_EQ(plan(withCpu(800000, 100000), 4).vcpus, 4u);
  EXPECT_EQ(plan(withCpu(800000, 100000), 0).vcpus, 1u);
}

// The cloud kernel sees vCPUs beyond the first only through ACPI tables.
TEST(PlanVm, MoreThanOneVcpuTurnsAcpiOn) {
  VmConfig one = plan(withCpu(100000, 100000), 4);
  EXPECT_FALSE(one.acpi);
  EXPECT_TRUE(contains(one.cmdline, " acpi=off "));
  VmConfig two = plan(withCpu(150000, 100000), 4);
  EXPECT_EQ(two.vcpus, 2u);
  EXPECT_TRUE(two.acpi);
  EXPECT_FALSE(contains(two.cmdline, "acpi=off"));
  EXPECT_TRUE(contains(two.cmdline, "panic=-1"));
}

TEST(PlanVm, UnlimitedOrIncompleteCpuUsesTheDefault) {
  EXPECT_EQ(plan(withCpu(-1, 100000)).vcpus, 1u);
  EXPECT_EQ(plan(withCpu(150000, std::nullopt)).vcpus, 1u);
  EXPECT_EQ(plan(withCpu(150000, 0)).vcpus, 1u);
}

TEST(PlanVm, MemoryLimitPlusOverhead) {
  EXPECT_EQ(plan(withMemory(256ll << 20)).memoryMiB, 256u + 128u);
  EXPECT_EQ(plan(withMemory((256ll << 20) + 1)).memoryMiB, 257u + 128u);
  EXPECT_EQ(plan(withMemory(-1)).memoryMiB, 512u);
  EXPECT_EQ(plan(withMemory(0)).memoryMiB, 512u);
}

// Under TCG the guest is told the rates of its APIC timer and TSC instead of calibrating them;
// KVM gets neither (kvm-clock and the TSC-deadline timer need no calibration).
TEST(GuestCmdline, TimerRatesUnderTcgOnly) {
  RuntimeConfig config;
  std::string tcg = guestCmdline(config, Accelerator::Tcg, false, false, 2096005);
  EXPECT_TRUE(contains(tcg, " lapic_timer_period=4000000 tsc_early_khz=2096005 panic=-1"));
  EXPECT_FALSE(contains(tcg, "noapictimer"));
  EXPECT_FALSE(contains(guestCmdline(config, Accelerator::Tcg, false), "tsc_early_khz"));
  std::string kvm = guestCmdline(config, Accelerator::Kvm, false, false, 2096005);
  EXPECT_FALSE(contains(kvm, "lapic_timer_period"));
  EXPECT_FALSE(contains(kvm, "tsc_early_khz"));
  EXPECT_FALSE(contains(kvm, "noapictimer"));
}

TEST(PlanVm, TakesTheHostsTscRateUnderTcgOnly) {
  HostFacts host{8, 2096005};
  EXPECT_TRUE(contains(
      planVm(oci::defaultSpec(), RuntimeConfig{}, kIdentity, Accelerator::Tcg, host, false).cmdline,
      " tsc_early_khz=2096005 "));
  EXPECT_FALSE(contains(
      planVm(oci::defaultSpec(), RuntimeConfig{}, kIdentity, Accelerator::Kvm, host, false).cmdline,
      "tsc_early_khz"));
  unsigned khz = hostTscKhz();
  EXPECT_EQ(khz, hostTscKhz());  // measured once
  if (khz) {
    EXPECT_GT(khz, 100'000u);
    EXPECT_TRUE(
        contains(plan(oci::defaultSpec()).cmdline, " tsc_early_khz=" + std::to_string(khz)));
  }
}

TEST(GuestCmdline, DebugAndExtraParams) {
  RuntimeConfig config;
  std::string plain = guestCmdline(config, Accelerator::Tcg, false, false, hostTscKhz());
  EXPECT_TRUE(contains(plain, "console=ttyS0"));
  EXPECT_TRUE(contains(plain, "panic=-1"));
  EXPECT_FALSE(contains(plain, "runvirt.debug"));
  EXPECT_EQ(guestCmdline(config, Accelerator::Tcg, true, false, hostTscKhz()),
            plain + " runvirt.debug=1");
  config.kernelParams = "foo=1";
  EXPECT_EQ(guestCmdline(config, Accelerator::Tcg, true, false, hostTscKhz()),
            plain + " runvirt.debug=1 foo=1");
  EXPECT_EQ(plan(oci::defaultSpec(), 8, true).cmdline, plain + " runvirt.debug=1");
}

}  // namespace
}  // namespace runvirt::backend

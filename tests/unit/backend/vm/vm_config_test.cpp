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
  return planVm(spec, RuntimeConfig{}, kIdentity, Accelerator::Tcg, hostCpus, debug);
}

TEST(PlanVm, DefaultsWithoutResources) {
  RuntimeConfig config;
  config.defaultVcpus = 2;
  config.defaultMemoryMiB = 768;
  VmConfig vm = planVm(oci::defaultSpec(), config, kIdentity, Accelerator::Kvm, 8, false);
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

TEST(GuestCmdline, NoApicTimerCalibrationUnderTcgOnly) {
  RuntimeConfig config;
  EXPECT_TRUE(contains(guestCmdline(config, Accelerator::Tcg, false), " noapictimer "));
  EXPECT_FALSE(contains(guestCmdline(config, Accelerator::Kvm, false), "noapictimer"));
}

TEST(GuestCmdline, DebugAndExtraParams) {
  RuntimeConfig config;
  std::string plain = guestCmdline(config, Accelerator::Tcg, false);
  EXPECT_TRUE(contains(plain, "console=ttyS0"));
  EXPECT_TRUE(contains(plain, "panic=-1"));
  EXPECT_FALSE(contains(plain, "runvirt.debug"));
  EXPECT_EQ(guestCmdline(config, Accelerator::Tcg, true), plain + " runvirt.debug=1");
  config.kernelParams = "foo=1";
  EXPECT_EQ(guestCmdline(config, Accelerator::Tcg, true), plain + " runvirt.debug=1 foo=1");
  EXPECT_EQ(plan(oci::defaultSpec(), 8, true).cmdline, plain + " runvirt.debug=1");
}

}  // namespace
}  // namespace runvirt::backend

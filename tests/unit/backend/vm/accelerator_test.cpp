// libvirt-backend/vm/accelerator.cpp: the pure KVM/TCG decision, as a table.
#include "vm/accelerator.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;

KvmFacts facts(bool cpu, bool dev, std::optional<bool> probe, std::string detail = "") {
  KvmFacts f;
  f.cpuHasVirtualization = cpu;
  f.devKvmUsable = dev;
  f.probeRan = probe;
  f.probeDetail = std::move(detail);
  return f;
}

KvmFacts withBoot(KvmFacts f, bool booted, std::string detail) {
  f.bootProbeRan = booted;
  f.bootProbeDetail = std::move(detail);
  return f;
}

struct Row {
  const char* name;
  AcceleratorChoice choice;
  KvmFacts facts;
  Accelerator expected;
  const char* reason;  // substring
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

class DecideAccelerator : public ::testing::TestWithParam<Row> {};

TEST_P(DecideAccelerator, Table) {
  AcceleratorDecision d = decideAccelerator(GetParam().choice, GetParam().facts);
  EXPECT_EQ(d.accelerator, GetParam().expected);
  EXPECT_TRUE(contains(d.reason, GetParam().reason));
}

const KvmFacts kAllGood = facts(true, true, true, "a test guest ran and halted");

INSTANTIATE_TEST_SUITE_P(
    Rows, DecideAccelerator,
    ::testing::Values(
        Row{"config_kvm_without_kvm", AcceleratorChoice::Kvm, facts(false, false, std::nullopt),
            Accelerator::Kvm, "kvm: chosen in the configuration"},
        Row{"config_tcg_with_kvm", AcceleratorChoice::Tcg, kAllGood, Accelerator::Tcg,
            "tcg: chosen in the configuration"},
        Row{"auto_no_cpu_flags", AcceleratorChoice::Auto, facts(false, true, true),
            Accelerator::Tcg, "tcg: the CPU flags show no vmx/svm"},
        Row{"auto_no_dev_kvm", AcceleratorChoice::Auto, facts(true, false, std::nullopt),
            Accelerator::Tcg, "tcg: /dev/kvm is missing or cannot be opened"},
        Row{"auto_probe_failed", AcceleratorChoice::Auto,
            facts(true, true, false, "a test guest did not halt within 2.0 s"), Accelerator::Tcg,
            "tcg: a test guest did not halt within 2.0 s"},
        Row{"auto_probe_not_run", AcceleratorChoice::Auto, facts(true, true, std::nullopt),
            Accelerator::Tcg, "tcg"},
        Row{"auto_probe_ok", AcceleratorChoice::Auto, kAllGood, Accelerator::Kvm,
            "kvm: vmx/svm present, /dev/kvm usable, a test guest ran and halted"},
        Row{"auto_boot_probe_hangs", AcceleratorChoice::Auto,
            withBoot(kAllGood, false,
                     "the guest kernel printed nothing within 3.0 s under QEMU with kvm"),
            Accelerator::Tcg, "tcg: the guest kernel printed nothing within 3.0 s"},
        Row{"auto_boot_probe_ok", AcceleratorChoice::Auto,
            withBoot(kAllGood, true, "the guest kernel booted on kvm (banner after 0.4 s)"),
            Accelerator::Kvm,
            "kvm: vmx/svm present, /dev/kvm usable, a test guest ran and halted, the guest kernel "
            "booted on kvm"}),
    [](const ::testing::TestParamInfo<Row>& info) { return std::string(info.param.name); });

TEST(Accelerator, ExplicitChoiceIsNeitherProbedNorCached) {
  test::TempDir cache;
  EXPECT_EQ(chooseAccelerator(AcceleratorChoice::Tcg, cache.path()).accelerator, Accelerator::Tcg);
  EXPECT_FALSE(test::exists(cache / "accelerator.json"));
}

TEST(Accelerator, DescribeEveryFact) {
  KvmFacts f = withBoot(facts(false, true, true, "a test guest ran and halted"), false, "hung");
  f.devKvmDetail = "opens (API 12)";
  EXPECT_EQ(describeKvmFacts(f),
            "CPU flags: no vmx/svm; /dev/kvm: opens (API 12); hlt probe: a test guest ran and "
            "halted; boot probe: hung");
  EXPECT_EQ(
      describeKvmFacts(KvmFacts{}),
      "CPU flags: no vmx/svm; /dev/kvm: not examined; hlt probe: not run; boot probe: not run");
}

TEST(Accelerator, BootProbeReportsAMissingKernel) {
  std::string detail;
  EXPECT_FALSE(
      probeGuestBoot({"/usr/bin/qemu-system-x86_64", "/nonexistent/vmlinux", 1}, "tcg", detail));
  EXPECT_TRUE(contains(detail, "the guest kernel `/nonexistent/vmlinux` cannot be read"));
}

TEST(Accelerator, Names) {
  EXPECT_EQ(toString(Accelerator::Kvm), "kvm");
  EXPECT_EQ(toString(Accelerator::Tcg), "tcg");
}

}  // namespace
}  // namespace runvirt::backend

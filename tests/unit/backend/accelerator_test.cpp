// libvirt-backend/src/accelerator.cpp: the pure KVM/TCG decision, as a table.
#include "runvirt/backend/accelerator.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;

KvmFacts facts(bool cpu, bool dev, std::optional<bool> probe, std::string detail = "") {
  return KvmFacts{cpu, dev, probe, std::move(detail)};
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
        Row{"config_kvm_without_kvm", AcceleratorChoice::Kvm, facts(false, false, std::nullopt), Accelerator::Kvm,
            "kvm: chosen in the configuration"},
        Row{"config_tcg_with_kvm", AcceleratorChoice::Tcg, kAllGood, Accelerator::Tcg,
            "tcg: chosen in the configuration"},
        Row{"auto_no_cpu_flags", AcceleratorChoice::Auto, facts(false, true, true), Accelerator::Tcg,
            "tcg: the CPU flags show no vmx/svm"},
        Row{"auto_no_dev_kvm", AcceleratorChoice::Auto, facts(true, false, std::nullopt), Accelerator::Tcg,
            "tcg: /dev/kvm is missing or cannot be opened"},
        Row{"auto_probe_failed", AcceleratorChoice::Auto,
            facts(true, true, false, "a test guest did not halt within 2.0 s"), Accelerator::Tcg,
            "tcg: a test guest did not halt within 2.0 s"},
        Row{"auto_probe_not_run", AcceleratorChoice::Auto, facts(true, true, std::nullopt), Accelerator::Tcg, "tcg"},
        Row{"auto_probe_ok", AcceleratorChoice::Auto, kAllGood, Accelerator::Kvm,
            "kvm: vmx/svm present, /dev/kvm usable, a test guest ran and halted"}),
    [](const ::testing::TestParamInfo<Row>& info) { return std::string(info.param.name); });

TEST(Accelerator, ExplicitChoiceIsNeitherProbedNorCached) {
  test::TempDir cache;
  EXPECT_EQ(chooseAccelerator(AcceleratorChoice::Tcg, cache.path()).accelerator, Accelerator::Tcg);
  EXPECT_FALSE(test::exists(cache / "accelerator.json"));
}

TEST(Accelerator, Names) {
  EXPECT_EQ(toString(Accelerator::Kvm), "kvm");
  EXPECT_EQ(toString(Accelerator::Tcg), "tcg");
}

}  // namespace
}  // namespace runvirt::backend

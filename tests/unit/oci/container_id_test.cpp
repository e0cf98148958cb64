// oci/src/container_id.cpp: runc's container ID rules.
#include "runvirt/oci/container_id.hpp"

#include <gtest/gtest.h>

#include "runvirt/error.hpp"

namespace runvirt::oci {
namespace {

TEST(ContainerId, AcceptsRuncCharacters) {
  EXPECT_NO_THROW(validateContainerId("abc"));
  EXPECT_NO_THROW(validateContainerId("4f2c1a9e0b7d"));
  EXPECT_NO_THROW(validateContainerId("a.b_c+d-E9"));
  EXPECT_NO_THROW(validateContainerId("..."));
  EXPECT_NO_THROW(validateContainerId(std::string(1024, 'x')));
}

class InvalidContainerId : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidContainerId, IsRejectedWithRuncsMessage) {
  try {
    validateContainerId(GetParam());
    FAIL() << "accepted \"" << GetParam() << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "invalid container ID format");
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(Ids, InvalidContainerId,
                         ::testing::Values("", ".", "..", "../etc", "a/b", "a b", "tab\t",
                                           "semi;colon", "caf\xc3\xa9", std::string(1025, 'x'),
                                           std::string("nul\0x", 5)));

}  // namespace
}  // namespace runvirt::oci

// libvirt-backend/common/strings.cpp: split() with empty fields kept or dropped.
#include "common/strings.hpp"

#include <gtest/gtest.h>

namespace runvirt::backend {
namespace {

using Fields = std::vector<std::string>;

TEST(Split, KeepReturnsOneFieldMoreThanSeparators) {
  EXPECT_EQ(split("a,,b,", ',', EmptyFields::Keep), (Fields{"a", "", "b", ""}));
  EXPECT_EQ(split(",a", ',', EmptyFields::Keep), (Fields{"", "a"}));
  EXPECT_EQ(split(":", ':', EmptyFields::Keep), (Fields{"", ""}));
  EXPECT_EQ(split("system.slice::web", ':', EmptyFields::Keep),
            (Fields{"system.slice", "", "web"}));
}

TEST(Split, DropLeavesOutEmptyFields) {
  EXPECT_EQ(split("a,,b,", ',', EmptyFields::Drop), (Fields{"a", "b"}));
  EXPECT_EQ(split("  cpu io  memory ", ' ', EmptyFields::Drop), (Fields{"cpu", "io", "memory"}));
  EXPECT_EQ(split(",,", ',', EmptyFields::Drop), Fields{});
}

TEST(Split, EmptyTextHasNoFields) {
  EXPECT_EQ(split("", ',', EmptyFields::Keep), Fields{});
  EXPECT_EQ(split("", ',', EmptyFields::Drop), Fields{});
}

TEST(Split, TextWithoutSeparatorIsOneField) {
  EXPECT_EQ(split("rw", ',', EmptyFields::Keep), Fields{"rw"});
  EXPECT_EQ(split("rw", ',', EmptyFields::Drop), Fields{"rw"});
}

}  // namespace
}  // namespace runvirt::backend

// oci/src/json_fields.cpp: FieldReader, lenient and strict.
#include "runvirt/json_fields.hpp"

#include <gtest/gtest.h>

#include "runvirt/error.hpp"

namespace runvirt {
namespace {

using nlohmann::json;

TEST(FieldReader, ReadsTypedValues) {
  json j = {{"s", "x"}, {"b", true},          {"u", 7},           {"i", -3},
            {"d", 2},   {"list", {"a", "b"}}, {"m", {{"k", "v"}}}};
  std::vector<Problem> problems;
  FieldReader r(j, "top", problems);
  std::string s;
  bool b = false;
  std::uint32_t u = 0;
  int i = 0;
  double d = 0;
  std::vector<std::string> list;
  std::map<std::string, std::string> m;
  r.get("s", s);
  r.get("b", b);
  r.get("u", u);
  r.get("i", i);
  r.get("d", d);
  r.get("list", list);
  r.get("m", m);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(s, "x");
  EXPECT_TRUE(b);
  EXPECT_EQ(u, 7u);
  EXPECT_EQ(i, -3);
  EXPECT_EQ(d, 2.0);
  EXPECT_EQ(list, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.at("k"), "v");
}

TEST(FieldReader, AbsentKeysLeaveDefaultsUnlessRequired) {
  json empty = json::object();
  std::vector<Problem> problems;
  FieldReader r(empty, "top", problems);
  std::string s = "default";
  r.get("optional", s);
  EXPECT_EQ(s, "default");
  EXPECT_TRUE(problems.empty());
  r.get("needed", s, true);
  EXPECT_EQ(describeProblems(problems), "top.needed: is required");
}

TEST(FieldReader, IntegerRanges) {
  json j = {{"int", 2147483648LL}, {"u64", -1}, {"i64", 18446744073709551615ULL}, {"float", 1.5}};
  std::vector<Problem> problems;
  FieldReader r(j, "", problems);
  int i = 0;
  std::uint64_t u = 0;
  std::int64_t s = 0;
  r.get("int", i);
  r.get("u64", u);
  r.get("i64", s);
  r.get("float", i);
  EXPECT_EQ(
      describeProblems(problems),
      "int: must fit in 32 bits; u64: must be a non-negative integer; i64: must fit in 64 bits; "
      "float: must be an integer");
}

TEST(FieldReader, StrictModeRejectsUnknownKeys) {
  json j = {{"known", 1}, {"extra", 2}, {"other", nullptr}};
  std::vector<Problem> problems;
  FieldReader r(j, "msg", problems);
  int known = 0;
  r.get("known", known);
  r.rejectUnknownKeys();
  EXPECT_EQ(describeProblems(problems),
            "msg.extra: is not a known field; msg.other: is not a known field");
}

TEST(FieldReader, ThrowIfProblemsJoinsThemAll) {
  std::vector<Problem> problems = {{"a", "is required"}, {"b[1]", "must be a string"}};
  try {
    throwIfProblems(problems, "invalid thing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "invalid thing: a: is required; b[1]: must be a string");
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
  }
  EXPECT_NO_THROW(throwIfProblems({}, "fine"));
}

}  // namespace
}  // namespace runvirt

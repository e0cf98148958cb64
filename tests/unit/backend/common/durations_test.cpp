// libvirt-backend/common/durations.cpp: one way to print a duration.
#include "common/durations.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace runvirt::backend {
namespace {

TEST(FormatSeconds, MillisecondsByDefault) {
  EXPECT_EQ(formatSeconds(0.3744), "0.374 s");
  EXPECT_EQ(formatSeconds(0.0006), "0.001 s");
  EXPECT_EQ(formatSeconds(0), "0.000 s");
  EXPECT_EQ(formatSeconds(12.3456), "12.346 s");
}

TEST(FormatSeconds, FewerDecimalsForPeople) {
  EXPECT_EQ(formatSeconds(2, 1), "2.0 s");
  EXPECT_EQ(formatSeconds(10, 1), "10.0 s");
  EXPECT_EQ(formatSeconds(0.36, 1), "0.4 s");
}

TEST(FormatSeconds, MatchesWhatTheBenchParses) {
  // bench/rvbench/phases.py: NUMBER_S = re.compile(r"(\d+(?:\.\d+)?) s\b")
  std::regex numberS(R"((\d+(?:\.\d+)?) s\b)");
  for (double s : {0.0, 0.0204, 1.5702, 123.4}) {
    std::smatch m;
    std::string text = "phase exec: workload started in " + formatSeconds(s);
    ASSERT_TRUE(std::regex_search(text, m, numberS)) << text;
    EXPECT_NEAR(std::stod(m[1].str()), s, 0.0005);
  }
}

}  // namespace
}  // namespace runvirt::backend

// Docker with runc and with runvirt side by side: the same `docker` command under both runtimes
// must give the same output and exit status. Real dockerd, real VMs; nothing skips.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/command.hpp"

namespace runvirt::dockertest {

using testsupport::Result;

// Runs `docker ARGS...` (no shell), feeding `input`. Fails the test after `timeoutSeconds`.
Result docker(const std::vector<std::string>& args, const std::string& input = "",
              double timeoutSeconds = 180);
// Runs any command (no shell).
Result command(const std::vector<std::string>& argv, const std::string& input = "",
               double timeoutSeconds = 180);

// The runtimes compared: runc (the standard of truth) and runvirt.
extern const std::vector<std::string> kRuntimes;

class DockerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  void TearDown() override;

  // A container name unique to this test run, removed (docker rm -f) after the test.
  std::string name(const std::string& runtime, const std::string& suffix = "");
  // `docker run --rm --runtime=R ARGS...` for each runtime (ARGS may start with run options).
  std::vector<Result> runEach(const std::vector<std::string>& args, const std::string& input = "");
  // Expects runc (the reference) to exit with `expectedStatus`, and every runtime to give the
  // same status and stdout; returns runvirt's result. A failure that both share is a failure.
  Result expectSame(const std::vector<std::string>& args, const std::string& input = "",
                    int expectedStatus = 0);
  // `docker run -d --runtime=R --name NAME OPTIONS busybox ARGS`, expected to succeed; returns
  // NAME (a fresh name(R)) and the docker command's result in `result` when given.
  std::string startBusybox(const std::string& runtime, const std::vector<std::string>& options,
                           const std::vector<std::string>& args, Result* result = nullptr);

  std::vector<std::string> names_;
};

// Strips a trailing newline and carriage return (tty output ends lines with \r\n).
std::string trim(std::string text);

}  // namespace runvirt::dockertest

// Running a command for a test: argv without a shell, stdin fed, stdout/stderr collected.
#pragma once

#include <string>
#include <vector>

namespace runvirt::testsupport {

struct Result {
  int status = -1;  // exit code, or 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Waits for the command to exit, not for end of file on its output: a created container's
// monitor keeps the stdout and stderr of `runvirt create` (they are the container's), as with
// runc. A command still running after `timeoutSeconds` is killed and the test fails.
Result runCommand(const std::vector<std::string>& argv, const std::string& input = "",
                  double timeoutSeconds = 180);

}  // namespace runvirt::testsupport

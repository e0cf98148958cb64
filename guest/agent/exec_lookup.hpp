// Finding the program to run, with the semantics and the error wording of Go's exec.LookPath,
// which runc uses: Docker turns "not found" / "no such file" into exit 127 and
// "permission denied" into 126, so the texts matter.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runvirt::agent {

// The value of `key` in a KEY=VALUE list; the last definition wins, as with os.Setenv in order.
std::optional<std::string> envValue(const std::vector<std::string>& env, std::string_view key);

// A name containing '/' is used as is; any other name is searched in `pathEnv` (':'-separated,
// an empty element means "."). Throws Error:
//   exec: "NAME": stat NAME: no such file or directory
//   exec: "NAME": permission denied                      (a directory, or not executable)
//   exec: "NAME": executable file not found in $PATH
//   exec: "NAME": cannot run executable found relative to current directory
std::string lookPath(const std::string& name, const std::string& pathEnv);

}  // namespace runvirt::agent

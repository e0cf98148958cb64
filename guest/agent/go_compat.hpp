// runc is written in Go and Docker matches on its error texts ("executable file not found",
// "no such file or directory", "permission denied"), so the agent reproduces Go's wording.
#pragma once

#include <string>
#include <string_view>

namespace runvirt::agent {

// Go's text for an errno: glibc's strerror with a lower-case first letter
// ("no such file or directory").
std::string goErrnoText(int errnum);

// Go's strconv.Quote for the names that appear in messages: "name" with \" \\ and control
// characters escaped.
std::string goQuote(std::string_view text);

}  // namespace runvirt::agent

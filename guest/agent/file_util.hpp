// Small file helpers (procfs, sysfs, /etc files). Errors name the path. Reading a whole file:
// runvirt/file_io.hpp, shared with the host.
#pragma once

#include <string>

namespace runvirt::agent {

// Writes `text` with one write(2), as procfs and sysfs files expect.
void writeFile(const std::string& path, const std::string& text);
// "/proc/self/fd/N": a path naming what fd refers to, for calls that take no fd.
std::string fdPath(int fd);
// Text with trailing spaces and newlines removed.
std::string trimRight(std::string text);

}  // namespace runvirt::agent

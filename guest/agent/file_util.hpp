// Small whole-file helpers (procfs, sysfs, /etc files). Errors name the path.
#pragma once

#include <optional>
#include <string>

namespace runvirt::agent {

std::string readFile(const std::string& path);
// std::nullopt when the file does not exist.
std::optional<std::string> readFileIfExists(const std::string& path);
// Writes `text` with one write(2), as procfs and sysfs files expect.
void writeFile(const std::string& path, const std::string& text);
// "/proc/self/fd/N": a path naming what fd refers to, for calls that take no fd.
std::string fdPath(int fd);
// Text with trailing spaces and newlines removed.
std::string trimRight(std::string text);

}  // namespace runvirt::agent

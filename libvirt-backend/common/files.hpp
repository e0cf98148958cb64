// Small file helpers that throw runvirt::Error with the path in the message (reading a whole file:
// runvirt/file_io.hpp, shared with the guest agent).
#pragma once

#include <sys/types.h>

#include <string>

namespace runvirt::backend {

// Writes a new temporary file next to `path` (a random name, created O_EXCL|O_NOFOLLOW) then
// renames it over `path`: readers see the old or the new file, whole. A symlink at `path` is
// replaced, not followed.
void writeFileAtomic(const std::string& path, const std::string& content, mode_t mode = 0644);
// mkdir -p with `mode` for the directories it creates.
void makeDirs(const std::string& path, mode_t mode = 0755);
bool pathExists(const std::string& path);
// The one spelling of a directory runvirt owns: absolute, without ".", "..", "//", a trailing
// "/" or symlinks in the part that exists (/var/run/./runvirt-vms/ -> /run/runvirt-vms), so
// that what it mounted there is recognised as its own when it tears down.
std::string canonicalPath(const std::string& path);
// This program's binary, resolved (/proc/self/exe): what `install-docker` registers, `check` and
// `env` report.
std::string executablePath();

}  // namespace runvirt::backend

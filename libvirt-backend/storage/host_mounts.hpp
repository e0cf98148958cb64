// Mount points on the host side of a VM's share, read from /proc/self/mountinfo.
#pragma once

#include <string>
#include <vector>

namespace runvirt::backend {

// Mount points equal to or below `dir` (however spelled), in mount order (parents first).
std::vector<std::string> mountPointsUnder(const std::string& dir);

// Detaches every mount point at or below `dir`, children first. Throws on the first failure
// other than "not mounted".
void unmountAllUnder(const std::string& dir);

// rm -rf; refuses (throws) while anything below `path` is a mount point, and never descends
// into one (the kernel says which, whatever the path's spelling).
void removeTree(const std::string& path);

// The mount point field of one mountinfo line, with octal escapes (\040) decoded.
std::string mountPointOfMountinfoLine(const std::string& line);

}  // namespace runvirt::backend

#include "runvirt/oci/mount_options.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <map>

namespace runvirt::oci {

namespace {

struct FlagEffect {
  bool clear;
  unsigned long flag;
};

const std::map<std::string, FlagEffect>& flagTable() {
  static const std::map<std::string, FlagEffect> table = {
      {"async", {true, MS_SYNCHRONOUS}},
      {"atime", {true, MS_NOATIME}},
      {"bind", {false, MS_BIND}},
      {"defaults", {false, 0}},
      {"dev", {true, MS_NODEV}},
      {"diratime", {true, MS_NODIRATIME}},
      {"dirsync", {false, MS_DIRSYNC}},
      {"exec", {true, MS_NOEXEC}},
      {"iversion", {false, MS_I_VERSION}},
      {"lazytime", {false, MS_LAZYTIME}},
      {"loud", {true, MS_SILENT}},
      {"mand", {false, MS_MANDLOCK}},
      {"noatime", {false, MS_NOATIME}},
      {"nodev", {false, MS_NODEV}},
      {"nodiratime", {false, MS_NODIRATIME}},
      {"noexec", {false, MS_NOEXEC}},
      {"noiversion", {true, MS_I_VERSION}},
      {"nolazytime", {true, MS_LAZYTIME}},
      {"nomand", {true, MS_MANDLOCK}},
      {"norelatime", {true, MS_RELATIME}},
      {"nostrictatime", {true, MS_STRICTATIME}},
      {"nosuid", {false, MS_NOSUID}},
      {"rbind", {false, MS_BIND | MS_REC}},
      {"relatime", {false, MS_RELATIME}},
      {"remount", {false, MS_REMOUNT}},
      {"ro", {false, MS_RDONLY}},
      {"rw", {true, MS_RDONLY}},
      {"silent", {false, MS_SILENT}},
      {"strictatime", {false, MS_STRICTATIME}},
      {"suid", {true, MS_NOSUID}},
      {"sync", {false, MS_SYNCHRONOUS}},
  };
  return table;
}

const std::map<std::string, unsigned long>& propagationTable() {
  static const std::map<std::string, unsigned long> table = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  return table;
}

}  // namespace

bool MountOptions::bind() const { return flags & MS_BIND; }
bool MountOptions::readonly() const { return flags & MS_RDONLY; }

MountOptions parseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& option : options) {
    if (auto it = flagTable().find(option); it != flagTable().end()) {
      if (it->second.clear) {
        out.flags &= ~it->second.flag;
      } else {
        out.flags |= it->second.flag;
      }
    } else if (auto p = propagationTable().find(option); p != propagationTable().end()) {
      out.propagation = p->second;
    } else {
      if (!out.data.empty()) out.data += ',';
      out.data += option;
    }
  }
  return out;
}

std::vector<std::string> knownMountOptions() {
  std::vector<std::string> names;
  for (const auto& [name, effect] : flagTable()) names.push_back(name);
  for (const auto& [name, propagation] : propagationTable()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

bool isBindMount(const std::string& type, const std::vector<std::string>& options) {
  if (type == "bind") return true;
  return std::any_of(options.begin(), options.end(),
                     [](const std::string& o) { return o == "bind" || o == "rbind"; });
}

}  // namespace runvirt::oci

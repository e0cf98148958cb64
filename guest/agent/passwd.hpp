// /etc/passwd and /etc/group of the container, parsed by hand: the agent is static, so glibc's
// NSS (getpwnam) is not available, and the files must be the container's anyway.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runvirt::agent {

struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string shell;
};

struct GroupEntry {
  std::string name;
  gid_t gid = 0;
  std::vector<std::string> members;
};

// Lines that are empty, comments or malformed (too few fields, non-numeric ids) are skipped,
// as libc and runc skip them.
std::vector<PasswdEntry> parsePasswd(std::string_view text);
std::vector<GroupEntry> parseGroup(std::string_view text);

// The first entry with that name / uid, as getpwnam/getpwuid return.
std::optional<PasswdEntry> findUserByName(const std::vector<PasswdEntry>& users,
                                          std::string_view name);
std::optional<PasswdEntry> findUserByUid(const std::vector<PasswdEntry>& users, uid_t uid);

// Gids of the groups that list `user` as a member (its supplementary groups), in file order.
std::vector<gid_t> supplementaryGroups(const std::vector<GroupEntry>& groups,
                                       std::string_view user);

}  // namespace runvirt::agent

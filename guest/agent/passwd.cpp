#include "passwd.hpp"

#include <charconv>

namespace runvirt::agent {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

template <class Line>
void forEachLine(std::string_view text, Line&& line) {
  for (std::string_view l : split(text, '\n')) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty() || l.front() == '#') continue;
    line(l);
  }
}

std::optional<std::uint32_t> parseId(std::string_view text) {
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::vector<PasswdEntry> parsePasswd(std::string_view text) {
  std::vector<PasswdEntry> users;
  forEachLine(text, [&](std::string_view line) {
    auto fields = split(line, ':');  // name:password:uid:gid:gecos:home:shell
    if (fields.size() < 4) return;
    auto uid = parseId(fields[2]);
    auto gid = parseId(fields[3]);
    if (fields[0].empty() || !uid || !gid) return;
    PasswdEntry entry{std::string(fields[0]), *uid, *gid, "", ""};
    if (fields.size() > 5) entry.home = fields[5];
    if (fields.size() > 6) entry.shell = fields[6];
    users.push_back(std::move(entry));
  });
  return users;
}

std::vector<GroupEntry> parseGroup(std::string_view text) {
  std::vector<GroupEntry> groups;
  forEachLine(text, [&](std::string_view line) {
    auto fields = split(line, ':');  // name:password:gid:member,member
    if (fields.size() < 3) return;
    auto gid = parseId(fields[2]);
    if (fields[0].empty() || !gid) return;
    GroupEntry entry{std::string(fields[0]), *gid, {}};
    if (fields.size() > 3) {
      for (std::string_view member : split(fields[3], ',')) {
        if (!member.empty()) entry.members.emplace_back(member);
      }
    }
    groups.push_back(std::move(entry));
  });
  return groups;
}

std::optional<PasswdEntry> findUserByName(const std::vector<PasswdEntry>& users,
                                          std::string_view name) {
  for (const auto& user : users) {
    if (user.name == name) return user;
  }
  return std::nullopt;
}

std::optional<PasswdEntry> findUserByUid(const std::vector<PasswdEntry>& users, uid_t uid) {
  for (const auto& user : users) {
    if (user.uid == uid) return user;
  }
  return std::nullopt;
}

std::vector<gid_t> supplementaryGroups(const std::vector<GroupEntry>& groups,
                                       std::string_view user) {
  std::vector<gid_t> gids;
  for (const auto& group : groups) {
    for (const auto& member : group.members) {
      if (member == user) {
        gids.push_back(group.gid);
        break;
      }
    }
  }
  return gids;
}

}  // namespace runvirt::agent

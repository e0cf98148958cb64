#include "vm/vm_owner.hpp"

#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/files.hpp"
#include "common/process_info.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/json_fields.hpp"
#include "vm/xml_writer.hpp"

namespace runvirt::backend {

namespace {

constexpr const char* kOwnerFile = "owner.json";

std::optional<VmOwner::Kind> parseKind(const std::string& text) {
  for (auto kind : {VmOwner::Kind::Container, VmOwner::Kind::Teardown}) {
    if (toString(kind) == text) return kind;
  }
  return std::nullopt;
}

std::string unescape(const std::string& text) {
  static const std::pair<const char*, char> entities[] = {
      {"&quot;", '"'}, {"&apos;", '\''}, {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [entity, c] : entities) {
      std::string_view e(entity);
      if (text.compare(i, e.size(), e) == 0) {
        out += c;
        i += e.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

// name="value" (or 'value') pairs of the first element in `xml`.
std::map<std::string, std::string> attributesOfFirstElement(const std::string& xml) {
  std::map<std::string, std::string> out;
  std::size_t start = xml.find('<');
  std::size_t end = xml.find('>', start);
  if (start == std::string::npos || end == std::string::npos) return out;
  std::string tag = xml.substr(start + 1, end - start - 1);
  std::size_t i = tag.find_first_of(" \t\n");
  while (i != std::string::npos && i < tag.size()) {
    std::size_t eq = tag.find('=', i);
    if (eq == std::string::npos || eq + 1 >= tag.size()) break;
    std::string name = tag.substr(i, eq - i);
    name.erase(0, name.find_first_not_of(" \t\n"));
    char quoteChar = tag[eq + 1];
    if (quoteChar != '"' && quoteChar != '\'') break;
    std::size_t close = tag.find(quoteChar, eq + 2);
    if (close == std::string::npos) break;
    out[name] = unescape(tag.substr(eq + 2, close - eq - 2));
    i = close + 1;
  }
  return out;
}

template <class T>
std::optional<T> number(const std::map<std::string, std::string>& attrs, const char* key) {
  auto it = attrs.find(key);
  if (it == attrs.end() || it->second.empty() ||
      it->second.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  try {
    return static_cast<T>(std::stoull(it->second));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string toString(VmOwner::Kind kind) {
  switch (kind) {
    case VmOwner::Kind::Container:
      return "container";
    case VmOwner::Kind::Teardown:
      return "teardown";
  }
  return "unknown";
}

VmOwner selfAsOwner(VmOwner::Kind kind, const std::string& containerId,
                    const std::string& stateRoot) {
  return {kind, containerId, stateRoot, getpid(), processStartTime(getpid()).value_or(0)};
}

bool ownerAlive(const VmOwner& owner) {
  return owner.pid > 0 && isSameProcessAlive(owner.pid, owner.startTime);
}

void writeOwnerMetadata(XmlWriter& xml, const VmOwner& owner) {
  xml.empty(kMetadataElement, {{"xmlns:runvirt", kMetadataNamespace},
                               {"kind", toString(owner.kind)},
                               {"container", owner.containerId},
                               {"root", owner.stateRoot},
                               {"pid", std::to_string(owner.pid)},
                               {"start-time", std::to_string(owner.startTime)}});
}

std::string ownerMetadataXml(const VmOwner& owner) {
  XmlWriter xml;
  writeOwnerMetadata(xml, owner);
  return xml.finish();
}

std::optional<VmOwner> parseOwnerMetadata(const std::string& xml) {
  auto attrs = attributesOfFirstElement(xml);
  auto kind = attrs.count("kind") ? parseKind(attrs["kind"]) : std::nullopt;
  auto pid = number<pid_t>(attrs, "pid");
  auto startTime = number<std::uint64_t>(attrs, "start-time");
  if (!kind || !pid || !startTime || !attrs.count("container") || !attrs.count("root"))
    return std::nullopt;
  return VmOwner{*kind, attrs["container"], attrs["root"], *pid, *startTime};
}

void writeOwnerFile(const std::string& vmDir, const VmOwner& owner) {
  nlohmann::json j = {{"kind", toString(owner.kind)},
                      {"container", owner.containerId},
                      {"root", owner.stateRoot},
                      {"pid", owner.pid},
                      {"startTime", owner.startTime}};
  writeFileAtomic(vmDir + "/" + kOwnerFile, j.dump() + "\n", 0600);
}

std::optional<VmOwner> readOwnerFile(const std::string& vmDir) {
  std::string text;
  try {
    text = readFile(vmDir + "/" + kOwnerFile);
  } catch (const Error&) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  std::vector<Problem> problems;
  FieldReader r(j, "", problems);
  std::string kind;
  VmOwner owner;
  std::int64_t pid = 0;
  r.get("kind", kind, true);
  r.get("container", owner.containerId, true);
  r.get("root", owner.stateRoot, true);
  r.get("pid", pid, true);
  r.get("startTime", owner.startTime, true);
  r.rejectUnknownKeys();
  auto parsedKind = parseKind(kind);
  if (!problems.empty() || !parsedKind) return std::nullopt;
  owner.kind = *parsedKind;
  owner.pid = static_cast<pid_t>(pid);
  return owner;
}

}  // namespace runvirt::backend

// Typed access to JSON object fields that reports problems with their JSON path.
//
// Two modes, one helper: OCI input is lenient (unknown keys ignored, as the runtime-spec
// demands) and collects every problem; runvirt's own files and agent messages are strict
// (unknown keys are problems too). Collecting instead of throwing lets `create` name every
// mistake in config.json at once.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace runvirt {

struct Problem {
  std::string path;     // e.g. "process.args[2]"
  std::string message;  // e.g. "must be a string"
};

// Joins problems as "path: message; path: message".
std::string describeProblems(const std::vector<Problem>& problems);

class FieldReader {
 public:
  // `object` must outlive the reader. `problems` receives every type mistake found.
  FieldReader(const nlohmann::json& object, std::string path, std::vector<Problem>& problems);

  // Each getter leaves `out` untouched when the key is absent (unless `required`) or wrong.
  void get(const char* key, std::string& out, bool required = false);
  void get(const char* key, bool& out, bool required = false);
  void get(const char* key, std::uint32_t& out, bool required = false);
  void get(const char* key, std::int64_t& out, bool required = false);
  void get(const char* key, std::uint64_t& out, bool required = false);
  void get(const char* key, int& out, bool required = false);
  void get(const char* key, double& out, bool required = false);
  void get(const char* key, std::vector<std::string>& out, bool required = false);
  void get(const char* key, std::vector<std::uint32_t>& out, bool required = false);
  void get(const char* key, std::map<std::string, std::string>& out, bool required = false);
  template <class T>
  void get(const char* key, std::optional<T>& out) {
    if (!has(key)) return;
    T value{};
    get(key, value);
    out = value;
  }

  bool has(const char* key) const;
  // The sub-object at `key` (nullptr if absent or not an object; the latter is a problem).
  const nlohmann::json* object(const char* key, bool required = false);
  // The array at `key` (nullptr if absent or not an array; the latter is a problem).
  const nlohmann::json* array(const char* key, bool required = false);

  std::string childPath(const char* key) const;
  void problem(const std::string& path, const std::string& message);

  // Strict mode: reports every key of the object that no getter asked for.
  void rejectUnknownKeys();

 private:
  const nlohmann::json* field(const char* key, bool required, nlohmann::json::value_t expected,
                              const char* what);

  const nlohmann::json& object_;
  std::string path_;
  std::vector<Problem>& problems_;
  std::set<std::string> seen_;
};

// Throws Error(prefix + ": " + describeProblems(problems)) when `problems` is not empty.
void throwIfProblems(const std::vector<Problem>& problems, const std::string& prefix);

}  // namespace runvirt

#include "runvirt/json_fields.hpp"

#include <limits>

#include "runvirt/error.hpp"

namespace runvirt {

using nlohmann::json;

std::string describeProblems(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "; ";
    out += p.path.empty() ? p.message : p.path + ": " + p.message;
  }
  return out;
}

void throwIfProblems(const std::vector<Problem>& problems, const std::string& prefix) {
  if (!problems.empty()) {
    throw Error(prefix + ": " + describeProblems(problems), ErrorKind::InvalidArgument);
  }
}

FieldReader::FieldReader(const json& object, std::string path, std::vector<Problem>& problems)
    : object_(object), path_(std::move(path)), problems_(problems) {
  if (!object_.is_object()) problem(path_, "must be an object");
}

std::string FieldReader::childPath(const char* key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void FieldReader::problem(const std::string& path, const std::string& message) {
  problems_.push_back({path, message});
}

bool FieldReader::has(const char* key) const {
  return object_.is_object() && object_.contains(key) && !object_.at(key).is_null();
}

const json* FieldReader::field(const char* key, bool required, json::value_t expected,
                               const char* what) {
  seen_.insert(key);
  if (!has(key)) {
    if (required && object_.is_object()) problem(childPath(key), "is required");
    return nullptr;
  }
  const json& value = object_.at(key);
  bool ok = value.type() == expected ||
            (expected == json::value_t::number_integer && value.is_number_unsigned()) ||
            (expected == json::value_t::number_unsigned && value.is_number_integer() &&
             value.get<std::int64_t>() >= 0) ||
            (expected == json::value_t::number_float && value.is_number());
  if (!ok) {
    problem(childPath(key), std::string("must be ") + what);
    return nullptr;
  }
  return &value;
}

void FieldReader::get(const char* key, std::string& out, bool required) {
  if (auto* v = field(key, required, json::value_t::string, "a string"))
    out = v->get<std::string>();
}

void FieldReader::get(const char* key, bool& out, bool required) {
  if (auto* v = field(key, required, json::value_t::boolean, "a boolean")) out = v->get<bool>();
}

void FieldReader::get(const char* key, std::uint32_t& out, bool required) {
  if (auto* v = field(key, required, json::value_t::number_unsigned, "a non-negative integer")) {
    auto value = v->get<std::uint64_t>();
    if (value > std::numeric_limits<std::uint32_t>::max()) {
      problem(childPath(key), "must fit in 32 bits");
      return;
    }
    out = static_cast<std::uint32_t>(value);
  }
}

void FieldReader::get(const char* key, std::uint64_t& out, bool required) {
  if (auto* v = field(key, required, json::value_t::number_unsigned, "a non-negative integer")) {
    out = v->get<std::uint64_t>();
  }
}

void FieldReader::get(const char* key, std::int64_t& out, bool required) {
  if (auto* v = field(key, required, json::value_t::number_integer, "an integer")) {
    if (v->is_number_unsigned() &&
        v->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
      problem(childPath(key), "must fit in 64 bits");
      return;
    }
    out = v->get<std::int64_t>();
  }
}

void FieldReader::get(const char* key, int& out, bool required) {
  std::int64_t value = 0;
  std::size_t before = problems_.size();
  if (!has(key)) {
    field(key, required, json::value_t::number_integer, "an integer");
    return;
  }
  get(key, value, required);
  if (problems_.size() != before) return;
  if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
    problem(childPath(key), "must fit in 32 bits");
    return;
  }
  out = static_cast<int>(value);
}

void FieldReader::get(const char* key, double& out, bool required) {
  if (auto* v = field(key, required, json::value_t::number_float, "a number"))
    out = v->get<double>();
}

void FieldReader::get(const char* key, std::vector<std::string>& out, bool required) {
  auto* v = field(key, required, json::value_t::array, "an array of strings");
  if (!v) return;
  out.clear();
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    if (!item.is_string()) {
      problem(childPath(key) + "[" + std::to_string(i) + "]", "must be a string");
      continue;
    }
    out.push_back(item.get<std::string>());
  }
}

void FieldReader::get(const char* key, std::vector<std::uint32_t>& out, bool required) {
  auto* v = field(key, required, json::value_t::array, "an array of integers");
  if (!v) return;
  out.clear();
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    if (!item.is_number_integer() || item.get<std::int64_t>() < 0 ||
        item.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
      problem(childPath(key) + "[" + std::to_string(i) + "]",
              "must be a 32-bit non-negative integer");
      continue;
    }
    out.push_back(item.get<std::uint32_t>());
  }
}

void FieldReader::get(const char* key, std::map<std::string, std::string>& out, bool required) {
  auto* v = field(key, required, json::value_t::object, "an object of strings");
  if (!v) return;
  out.clear();
  for (const auto& [k, item] : v->items()) {
    if (!item.is_string()) {
      problem(childPath(key) + "." + k, "must be a string");
      continue;
    }
    out[k] = item.get<std::string>();
  }
}

const json* FieldReader::object(const char* key, bool required) {
  return field(key, required, json::value_t::object, "an object");
}

const json* FieldReader::array(const char* key, bool required) {
  return field(key, required, json::value_t::array, "an array");
}

void FieldReader::rejectUnknownKeys() {
  if (!object_.is_object()) return;
  for (const auto& [key, value] : object_.items()) {
    if (!seen_.count(key)) problem(childPath(key.c_str()), "is not a known field");
  }
}

}  // namespace runvirt

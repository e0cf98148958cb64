#include "common/runtime_config.hpp"

#include <cstdlib>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "common/files.hpp"
#include "common/log.hpp"

namespace runvirt::backend {

namespace {

std::string where(const std::string& source, const toml::node& node) {
  return source + ":" + std::to_string(node.source().begin.line);
}

class TableReader {
 public:
  TableReader(const toml::table& table, std::string name, std::string source)
      : table_(table), name_(std::move(name)), source_(std::move(source)) {}

  void get(const char* key, std::string& out) {
    if (auto* node = take(key)) {
      auto value = node->value<std::string>();
      if (!value || !node->is_string()) fail(*node, key, "must be a string");
      out = *value;
    }
  }
  void get(const char* key, unsigned& out, unsigned min, unsigned max) {
    if (auto* node = take(key)) {
      auto value = node->value<std::int64_t>();
      if (!value || !node->is_integer() || *value < min || *value > max) {
        fail(*node, key,
             "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
      }
      out = static_cast<unsigned>(*value);
    }
  }
  void get(const char* key, double& out) {
    if (auto* node = take(key)) {
      auto value = node->value<double>();
      if (!value || *value <= 0) fail(*node, key, "must be a positive number");
      out = *value;
    }
  }
  void rejectUnknown() {
    for (const auto& [key, node] : table_) {
      if (!seen_.count(std::string(key.str())))
        fail(node, std::string(key.str()).c_str(), "is not a known key");
    }
  }
  [[noreturn]] void fail(const toml::node& node, const std::string& key,
                         const std::string& message) {
    throw Error(where(source_, node) + ": " + name_ + "." + key + " " + message,
                ErrorKind::InvalidArgument);
  }

 private:
  const toml::node* take(const char* key) {
    seen_.insert(key);
    return table_.get(key);
  }
  const toml::table& table_;
  std::string name_;
  std::string source_;
  std::set<std::string> seen_;
};

AcceleratorChoice parseAccelerator(const std::string& text, TableReader& reader,
                                   const toml::node& node) {
  if (text == "auto") return AcceleratorChoice::Auto;
  if (text == "kvm") return AcceleratorChoice::Kvm;
  if (text == "tcg") return AcceleratorChoice::Tcg;
  reader.fail(node, "accelerator", "must be one of auto, kvm, tcg");
}

const toml::table* section(const toml::table& root, const char* name, const std::string& source) {
  const toml::node* node = root.get(name);
  if (!node) return nullptr;
  if (!node->is_table())
    throw Error(where(source, *node) + ": " + name + " must be a table",
                ErrorKind::InvalidArgument);
  return node->as_table();
}

}  // namespace

std::string toString(AcceleratorChoice choice) {
  switch (choice) {
    case AcceleratorChoice::Auto:
      return "auto";
    case AcceleratorChoice::Kvm:
      return "kvm";
    case AcceleratorChoice::Tcg:
      return "tcg";
  }
  return "auto";
}

RuntimeConfig parseRuntimeConfig(const std::string& text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw Error(
        source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()),
        ErrorKind::InvalidArgument);
  }
  RuntimeConfig config;
  config.source = source;
  for (const auto& [key, node] : root) {
    if (key.str() != "hypervisor" && key.str() != "runtime") {
      throw Error(where(source, node) + ": unknown section " + quote(key.str()),
                  ErrorKind::InvalidArgument);
    }
  }
  if (const toml::table* hv = section(root, "hypervisor", source)) {
    TableReader r(*hv, "hypervisor", source);
    r.get("kernel", config.kernel);
    r.get("initrd", config.initrd);
    r.get("qemu", config.qemu);
    r.get("virtiofsd", config.virtiofsd);
    std::string accelerator;
    r.get("accelerator", accelerator);
    if (!accelerator.empty())
      config.accelerator = parseAccelerator(accelerator, r, *hv->get("accelerator"));
    r.get("default_vcpus", config.defaultVcpus, 1, 256);
    r.get("default_memory_mib", config.defaultMemoryMiB, 64, 1 << 20);
    r.get("memory_overhead_mib", config.memoryOverheadMiB, 32, 1 << 16);
    r.get("shared_fs", config.sharedFs);
    if (config.sharedFs != "virtiofs")
      r.fail(*hv->get("shared_fs"), "shared_fs", "must be \"virtiofs\" (9p is not built in)");
    r.get("kernel_params", config.kernelParams);
    r.get("tcg_tb_cache_mib", config.tcgTbCacheMiB, 0, 1 << 12);
    r.rejectUnknown();
  }
  if (const toml::table* rt = section(root, "runtime", source)) {
    TableReader r(*rt, "runtime", source);
    r.get("libvirt_uri", config.libvirtUri);
    r.get("vm_dir", config.vmDir);
    if (config.vmDir.empty() || config.vmDir[0] != '/')
      r.fail(*rt->get("vm_dir"), "vm_dir", "must be an absolute path");
    r.get("qemu_user", config.qemuUser);
    r.get("agent_timeout_seconds", config.agentTimeoutSeconds);
    r.get("log_level", config.logLevel);
    if (config.logLevel != "debug" && config.logLevel != "info" && config.logLevel != "warning" &&
        config.logLevel != "error") {
      r.fail(*rt->get("log_level"), "log_level", "must be one of debug, info, warning, error");
    }
    r.rejectUnknown();
  }
  config.vmDir = canonicalPath(config.vmDir);
  return config;
}

namespace {

// A TOML basic string.
std::string tomlString(const std::string& value) {
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string tomlFloat(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  std::string text = out.str();
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

}  // namespace

std::vector<TomlEntry> runtimeConfigEntries(const RuntimeConfig& c) {
  auto u = [](unsigned v) { return static_cast<std::int64_t>(v); };
  return {
      {"hypervisor", "kernel", c.kernel},
      {"hypervisor", "initrd", c.initrd},
      {"hypervisor", "qemu", c.qemu},
      {"hypervisor", "virtiofsd", c.virtiofsd},
      {"hypervisor", "accelerator", toString(c.accelerator)},
      {"hypervisor", "default_vcpus", u(c.defaultVcpus)},
      {"hypervisor", "default_memory_mib", u(c.defaultMemoryMiB)},
      {"hypervisor", "memory_overhead_mib", u(c.memoryOverheadMiB)},
      {"hypervisor", "shared_fs", c.sharedFs},
      {"hypervisor", "kernel_params", c.kernelParams},
      {"hypervisor", "tcg_tb_cache_mib", u(c.tcgTbCacheMiB)},
      {"runtime", "libvirt_uri", c.libvirtUri},
      {"runtime", "vm_dir", c.vmDir},
      {"runtime", "qemu_user", c.qemuUser},
      {"runtime", "agent_timeout_seconds", c.agentTimeoutSeconds},
      {"runtime", "log_level", c.logLevel},
  };
}

std::string formatToml(const std::vector<TomlEntry>& entries) {
  std::ostringstream out;
  std::string table;
  for (const auto& e : entries) {
    if (e.table != table) {
      out << (table.empty() ? "" : "\n") << "[" << e.table << "]\n";
      table = e.table;
    }
    out << e.key << " = ";
    if (auto* s = std::get_if<std::string>(&e.value)) {
      out << tomlString(*s);
    } else if (auto* i = std::get_if<std::int64_t>(&e.value)) {
      out << *i;
    } else {
      out << tomlFloat(std::get<double>(e.value));
    }
    out << "\n";
  }
  return out.str();
}

std::string formatRuntimeConfig(const RuntimeConfig& config) {
  return formatToml(runtimeConfigEntries(config));
}

bool applyLogLevel(const RuntimeConfig& config) {
  log::Level minimum = config.logLevel == "warning" ? log::Level::Warning
                       : config.logLevel == "error" ? log::Level::Error
                                                    : log::Level::Info;
  log::setMinimumLevel(minimum);
  if (config.logLevel != "debug" || log::options().debug) return false;
  log::Options options = log::options();
  options.debug = true;
  log::configure(options);
  return true;
}

RuntimeConfig loadRuntimeConfig(const std::string& flagPath) {
  std::string path = flagPath;
  if (path.empty()) {
    if (const char* env = std::getenv("RUNVIRT_CONFIG"); env && *env) path = env;
  }
  bool explicitPath = !path.empty();
  if (!explicitPath) path = kDefaultConfigPath;
  std::string text;
  try {
    text = readFile(path);
  } catch (const Error& e) {
    if (!explicitPath)
      return RuntimeConfig{};  // no (readable) config.toml where it usually is: the defaults
    throwErrno("open config " + path, e.errnum());
  }
  return parseRuntimeConfig(text, path);
}

}  // namespace runvirt::backend

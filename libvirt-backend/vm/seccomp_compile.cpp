#include "vm/seccomp_compile.hpp"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <set>

#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

// An action's libseccomp value, given the rule's errnoRet (EPERM when the profile sets none).
using ActionValue = std::uint32_t (*)(std::uint32_t errnoRet);

const std::map<std::string, ActionValue>& actionTable() {
  static const std::map<std::string, ActionValue> table = {
      {"SCMP_ACT_ALLOW", [](std::uint32_t) -> std::uint32_t { return SCMP_ACT_ALLOW; }},
      {"SCMP_ACT_ERRNO",
       [](std::uint32_t errnoRet) -> std::uint32_t { return SCMP_ACT_ERRNO(errnoRet); }},
      {"SCMP_ACT_KILL", [](std::uint32_t) -> std::uint32_t { return SCMP_ACT_KILL_THREAD; }},
      {"SCMP_ACT_KILL_PROCESS",
       [](std::uint32_t) -> std::uint32_t { return SCMP_ACT_KILL_PROCESS; }},
      {"SCMP_ACT_KILL_THREAD", [](std::uint32_t) -> std::uint32_t { return SCMP_ACT_KILL_THREAD; }},
      {"SCMP_ACT_LOG", [](std::uint32_t) -> std::uint32_t { return SCMP_ACT_LOG; }},
      {"SCMP_ACT_TRACE",
       [](std::uint32_t errnoRet) -> std::uint32_t { return SCMP_ACT_TRACE(errnoRet); }},
      {"SCMP_ACT_TRAP", [](std::uint32_t) -> std::uint32_t { return SCMP_ACT_TRAP; }},
  };
  return table;
}

const std::map<std::string, scmp_compare>& operatorTable() {
  static const std::map<std::string, scmp_compare> table = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  return table;
}

template <class Value>
std::vector<std::string> namesOf(const std::map<std::string, Value>& table) {
  std::vector<std::string> names;
  for (const auto& [name, value] : table) names.push_back(name);
  return names;  // sorted: a std::map's order
}

std::uint32_t action(const std::string& name, std::optional<std::uint32_t> errnoRet) {
  auto it = actionTable().find(name);
  if (it == actionTable().end())
    throw Error("unsupported seccomp action " + quote(name), ErrorKind::InvalidArgument);
  return it->second(errnoRet.value_or(EPERM));
}

scmp_compare compareOp(const std::string& op) {
  auto it = operatorTable().find(op);
  if (it == operatorTable().end())
    throw Error("unsupported seccomp operator " + quote(op), ErrorKind::InvalidArgument);
  return it->second;
}

void addArchitectures(void* ctx, const oci::Seccomp& profile) {
  for (const auto& name : profile.architectures) {
    // "SCMP_ARCH_X86_64" -> "x86_64"
    std::string arch = name.rfind("SCMP_ARCH_", 0) == 0 ? name.substr(10) : name;
    for (auto& c : arch) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::uint32_t token = seccomp_arch_resolve_name(arch.c_str());
    if (token == 0) continue;  // an architecture libseccomp does not know: nothing to filter
    int rc = seccomp_arch_add(ctx, token);
    if (rc < 0 && rc != -EEXIST)
      throw Error("seccomp: add architecture " + quote(name) + " failed");
  }
}

void addRule(void* ctx, std::uint32_t act, int syscall, const std::vector<oci::SeccompArg>& args,
             const std::string& name) {
  std::vector<scmp_arg_cmp> cmps;
  std::set<std::uint32_t> indexes;
  bool repeatedIndex = false;
  for (const auto& a : args) {
    repeatedIndex |= !indexes.insert(a.index).second;
    cmps.push_back(SCMP_CMP64(a.index, compareOp(a.op), a.value, a.valueTwo));
  }
  auto add = [&](const scmp_arg_cmp* first, unsigned count) {
    // Not the _exact variant: with several architectures (Docker's profile lists x86_64, x86
    // and x32) an exact rule fails with EOPNOTSUPP; libseccomp must adapt it per architecture,
    // as runc lets it.
    int rc = seccomp_rule_add_array(ctx, act, syscall, count, first);
    // -EACCES/-EEXIST: the rule equals the default action or an existing rule; harmless.
    if (rc < 0 && rc != -EACCES && rc != -EEXIST) {
      throw Error("seccomp: add rule for " + quote(name) + " failed (errno " + std::to_string(-rc) +
                  ")");
    }
  };
  if (!repeatedIndex) {
    add(cmps.data(), static_cast<unsigned>(cmps.size()));
  } else {
    // libseccomp cannot compare one argument twice in a rule: one rule per comparison (runc does
    // the same).
    for (const auto& cmp : cmps) add(&cmp, 1);
  }
}

}  // namespace

std::vector<std::string> seccompActionNames() { return namesOf(actionTable()); }

std::vector<std::string> seccompOperatorNames() { return namesOf(operatorTable()); }

std::vector<std::string> seccompArchitectureNames() {
  return {"SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"};
}

std::string compileSeccomp(const oci::Seccomp& profile) {
  std::uint32_t defaultAction = action(profile.defaultAction, profile.defaultErrnoRet);
  Context ctx(seccomp_init(defaultAction));
  if (!ctx) throw Error("seccomp: init failed");
  // The guest sets no_new_privs itself when the spec asks; libseccomp must not force it.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  addArchitectures(ctx.get(), profile);
  for (const auto& rule : profile.syscalls) {
    std::uint32_t act = action(rule.action, rule.errnoRet);
    for (const auto& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // not a syscall on this architecture
      if (act == defaultAction && rule.args.empty()) continue;
      addRule(ctx.get(), act, nr, rule.args, name);
    }
  }
  UniqueFd memfd(memfd_create("runvirt-seccomp", MFD_CLOEXEC));
  if (!memfd) throwErrno("memfd_create");
  if (int rc = seccomp_export_bpf(ctx.get(), memfd.get()); rc < 0) {
    throw Error("seccomp: export failed (errno " + std::to_string(-rc) + ")");
  }
  if (lseek(memfd.get(), 0, SEEK_SET) < 0) throwErrno("seek seccomp program");
  return readAll(memfd.get(), "seccomp program");
}

}  // namespace runvirt::backend

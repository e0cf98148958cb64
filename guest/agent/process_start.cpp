#include "process_start.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "exec_lookup.hpp"
#include "file_util.hpp"
#include "go_compat.hpp"
#include "log.hpp"
#include "passwd.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/unique_fd.hpp"
#include "sync_channel.hpp"
#include "syscalls.hpp"

namespace runvirt::agent {

namespace {

// ---- prepare ----

void resolveUser(const ProcessSpec& spec, PreparedProcess& out) {
  auto users = parsePasswd(readFileIfExists("/etc/passwd").value_or(""));
  out.uid = spec.uid;
  out.gid = spec.gid;
  if (!spec.username.empty()) {
    auto user = findUserByName(users, spec.username);
    if (!user) {
      throw Error("unable to find user " + spec.username + ": no matching entries in passwd file",
                  ErrorKind::NotFound);
    }
    out.uid = user->uid;
    out.gid = user->gid;
    auto groups = parseGroup(readFileIfExists("/etc/group").value_or(""));
    out.groups = supplementaryGroups(groups, user->name);
  }
  for (gid_t gid : spec.additionalGids) {
    if (std::find(out.groups.begin(), out.groups.end(), gid) == out.groups.end()) {
      out.groups.push_back(gid);
    }
  }
  out.env = spec.env;
  if (!envValue(out.env, "HOME")) {
    auto user = findUserByUid(users, out.uid);
    out.env.push_back("HOME=" + (user && !user->home.empty() ? user->home : std::string("/")));
  }
}

void changeToCwd(const std::string& cwd) {
  if (::chdir(cwd.c_str()) != 0) {
    throw Error(
        "chdir to cwd (" + goQuote(cwd) + ") set in config.json failed: " + goErrnoText(errno),
        ErrorKind::NotFound, errno);
  }
}

// ---- stdio ----

void installStdio(int in, int out, int err) {
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) throwErrno("dup2 stdio");
}

void setupPipes(int syncFd) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) {
    throwErrno("pipe for stdio");
  }
  UniqueFd agentIn(in[1]), agentOut(out[0]), agentErr(err[0]);
  UniqueFd childIn(in[0]), childOut(out[1]), childErr(err[1]);
  sendSync(syncFd, SyncKind::Stdio, "pipes", {agentIn.get(), agentOut.get(), agentErr.get()});
  if (::setsid() < 0) throwErrno("setsid");
  installStdio(childIn.get(), childOut.get(), childErr.get());
}

void setupTerminal(const ProcessSpec& spec, int syncFd, bool bindConsole) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) throwErrno("open /dev/ptmx");
  int unlock = 0, number = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) != 0) throwErrno("unlock pty");
  if (::ioctl(master.get(), TIOCGPTN, &number) != 0) throwErrno("get pty number");
  UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) throwErrno("open pty slave");
  if (spec.rows && spec.cols) {
    winsize size{spec.rows, spec.cols, 0, 0};
    if (::ioctl(master.get(), TIOCSWINSZ, &size) != 0) throwErrno("set terminal size");
  }
  sendSync(syncFd, SyncKind::Stdio, "pty", {master.get()});
  master.reset();
  if (::setsid() < 0) throwErrno("setsid");
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) throwErrno("set controlling terminal");
  if (bindConsole && ::access("/dev/console", F_OK) == 0) {
    sys::bindMount("/dev/pts/" + std::to_string(number), "/dev/console", 0);
  }
  installStdio(slave.get(), slave.get(), slave.get());
}

// ---- limits and credentials ----

void applyRlimits(const ProcessSpec& spec) {
  for (const auto& limit : spec.rlimits) {
    rlimit value{limit.soft, limit.hard};
    if (::setrlimit(limit.resource, &value) != 0) {
      throwErrno("setrlimit " + std::to_string(limit.resource));
    }
  }
}

void applyProcessAttributes(const ProcessSpec& spec) {
  applyRlimits(spec);
  if (spec.umask) ::umask(mode_t(*spec.umask));
  if (spec.oomScoreAdj) writeFile("/proc/self/oom_score_adj", std::to_string(*spec.oomScoreAdj));
}

// Mask of the capabilities this kernel knows, probed without needing /proc.
std::uint64_t knownCapabilities() {
  int last = 0;
  while (last < 63 && ::prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) ++last;
  return last >= 63 ? ~std::uint64_t(0) : (std::uint64_t(1) << (last + 1)) - 1;
}

void dropBoundingSet(std::uint64_t keep, std::uint64_t known) {
  for (int cap = 0; cap < 64; ++cap) {
    std::uint64_t bit = std::uint64_t(1) << cap;
    if ((known & bit) && !(keep & bit)) sys::dropBoundingCapability(cap);
  }
}

void raiseAmbient(std::uint64_t ambient, std::uint64_t known) {
  for (int cap = 0; cap < 64; ++cap) {
    std::uint64_t bit = std::uint64_t(1) << cap;
    if ((known & bit) && (ambient & bit) && !sys::raiseAmbientCapability(cap)) {
      log::debug("cannot raise ambient capability %d", cap);  // runc only warns too
    }
  }
}

// runc's order: a seccomp filter without no_new_privs needs CAP_SYS_ADMIN, so it goes in
// before the privileges are dropped; with no_new_privs it goes in as late as possible.
void applyCredentials(const ProcessSpec& spec, const PreparedProcess& prepared) {
  bool earlySeccomp = !spec.seccompFilter.empty() && !spec.noNewPrivileges;
  if (earlySeccomp) sys::loadSeccompFilter(spec.seccompFilter);
  sys::setGroups(prepared.groups);
  std::uint64_t known = knownCapabilities();
  if (spec.capabilities) {
    dropBoundingSet(spec.capabilities->bounding, known);
    sys::setKeepCapabilities(true);
  }
  sys::setGid(prepared.gid);
  sys::setUid(prepared.uid);
  if (spec.capabilities) {
    const auto& caps = *spec.capabilities;
    sys::setKeepCapabilities(false);
    sys::setCapabilities(caps.effective & known, caps.permitted & known, caps.inheritable & known);
    raiseAmbient(caps.ambient, known);
  }
  if (spec.noNewPrivileges) sys::setNoNewPrivileges();
  if (!spec.seccompFilter.empty() && !earlySeccomp) sys::loadSeccompFilter(spec.seccompFilter);
}

}  // namespace

PreparedProcess prepareProcess(const ProcessSpec& spec) {
  if (spec.args.empty()) throw Error("process args must not be empty", ErrorKind::InvalidArgument);
  PreparedProcess prepared;
  resolveUser(spec, prepared);
  changeToCwd(spec.cwd);
  prepared.executable = lookPath(spec.args[0], envValue(prepared.env, "PATH").value_or(""));
  return prepared;
}

void execProcess(const ProcessSpec& spec, const PreparedProcess& prepared, int syncFd,
                 bool bindConsole) {
  withContext("set process attributes", [&] { applyProcessAttributes(spec); });
  withContext("set up stdio", [&] {
    if (spec.terminal) {
      setupTerminal(spec, syncFd, bindConsole);
    } else {
      setupPipes(syncFd);
    }
  });
  withContext("set credentials", [&] { applyCredentials(spec, prepared); });
  try {
    sys::execute(prepared.executable, spec.args, prepared.env);
  } catch (const Error& e) {
    // Go's os.PathError wording, as runc reports a failed exec.
    throw Error("exec " + prepared.executable + ": " + goErrnoText(e.errnum()), ErrorKind::Failure,
                e.errnum());
  }
}

}  // namespace runvirt::agent

// `runvirt exec`: one more process in a running container, through an exec monitor.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/agent_spec.hpp"
#include "monitor/exec_monitor.hpp"
#include "common/files.hpp"
#include "common/signal_sets.hpp"
#include "lifecycle/foreground.hpp"
#include "lifecycle/runtime.hpp"
#include "vm/seccomp_compile.hpp"
#include "vm/vm_config.hpp"
#include "runvirt/error.hpp"
#include "runvirt/json_fields.hpp"
#include "runvirt/oci/spec_json.hpp"
#include "runvirt/oci/validate.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

std::string readReport(int fd) {
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace

oci::Process Runtime::containerProcess(const std::string& id) const {
  return *oci::loadSpec(store_.load(id).bundle).process;
}

int Runtime::exec(const ExecOptions& o) {
  ContainerRecord record = store_.load(o.id);
  oci::Status status = record.effectiveStatus();
  if (status == oci::Status::Stopped) throw Error("cannot exec in a stopped container", ErrorKind::NotRunning);
  if (status == oci::Status::Paused) throw Error("cannot exec in a paused container");
  std::vector<Problem> problems;
  oci::validateProcess(o.process, "process", problems);
  throwIfProblems(problems, "invalid process");
  if (o.process.terminal && o.consoleSocket.empty() && o.detach) {
    throw Error("cannot allocate tty if runc will detach without setting console socket");
  }
  // The container's seccomp profile binds its exec'd processes too, as under runc.
  oci::Spec spec = oci::loadSpec(record.bundle);
  std::string bpf = spec.linux && spec.linux->seccomp ? compileSeccomp(*spec.linux->seccomp) : "";
  ExecMonitorOptions monitor{VmPaths{record.vmDir}.controlSocket(), record.vmDir, toAgentProcess(o.process, bpf),
                             o.consoleSocket, -1};

  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) < 0) throwErrno("pipe");
  UniqueFd reportRead(pipeFds[0]), reportWrite(pipeFds[1]);
  sigset_t forwarded = foregroundSignals();
  if (!o.detach) sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  pid_t child = fork();
  if (child < 0) throwErrno("fork");
  if (child == 0) {
    reportRead.reset();
    monitor.reportFd = reportWrite.release();
    runExecMonitor(std::move(monitor));
  }
  reportWrite.reset();
  auto outcome = nlohmann::json::parse(readReport(reportRead.get()), nullptr, false);
  if (outcome.is_discarded() || !outcome.value("ok", false)) {
    waitpid(child, nullptr, 0);
    throw Error(outcome.is_object() && outcome.contains("error") ? outcome["error"].get<std::string>()
                                                                 : "the exec monitor exited during set-up");
  }
  if (!o.pidFile.empty()) writeFileAtomic(o.pidFile, std::to_string(child), 0644);
  if (o.detach) return 0;
  return waitForwardingSignals(child, forwarded);
}

}  // namespace runvirt::backend

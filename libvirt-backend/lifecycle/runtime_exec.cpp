// `runvirt exec`: one more process in a running container, through an exec monitor.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/agent_spec.hpp"
#include "control/channel.hpp"
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

oci::Process Runtime::containerProcess(const std::string& id) const {
  return *oci::loadSpec(store_.load(id).bundle).process;
}

int Runtime::exec(const ExecOptions& o) {
  ContainerRecord record = store_.load(o.id);
  oci::Status status = record.effectiveStatus();
  if (status == oci::Status::Stopped)
    throw Error("cannot exec in a stopped container", ErrorKind::NotRunning);
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
  ExecMonitorOptions monitor{VmPaths{record.vmDir}.controlSocket(), record.vmDir,
                             toAgentProcess(o.process, bpf), o.consoleSocket, -1};

  auto [reportRead, reportWrite] = control::reportChannel();
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
  std::optional<control::Reply> outcome;
  try {
    outcome = control::receiveReply(reportRead.get());
  } catch (const Error&) {
    // Unreadable: as if it had said nothing.
  }
  if (!outcome || !std::holds_alternative<control::Done>(*outcome)) {
    waitpid(child, nullptr, 0);
    auto* failed = outcome ? std::get_if<control::Failed>(&*outcome) : nullptr;
    throw Error(failed ? failed->error : "the exec monitor exited during set-up");
  }
  if (!o.pidFile.empty()) writeFileAtomic(o.pidFile, std::to_string(child), 0644);
  if (o.detach) return 0;
  return waitForwardingSignals(child, forwarded);
}

}  // namespace runvirt::backend

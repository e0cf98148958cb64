#include "network/net_tool.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "common/subprocess.hpp"
#include "runvirt/error.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

constexpr double kToolTimeout = 10;
constexpr std::size_t kMaxOutput = 4u << 20;

std::string toolPath(const std::string& tool) {
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    std::string path = dir + tool;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  throw Error(quote(tool) + " not found: install iproute2");
}

std::string commandLine(const std::string& tool, const std::vector<std::string>& args) {
  std::string line = tool;
  for (const auto& a : args) line += " " + a;
  return quote(line);
}

}  // namespace

std::string runNetTool(const std::string& tool, const std::vector<std::string>& args,
                       const std::vector<std::pair<int, int>>& fds) {
  int outPipe[2], errPipe[2];
  if (pipe2(outPipe, O_CLOEXEC) < 0) throwErrno("pipe");
  UniqueFd outRead(outPipe[0]), outWrite(outPipe[1]);
  if (pipe2(errPipe, O_CLOEXEC) < 0) throwErrno("pipe");
  UniqueFd errRead(errPipe[0]), errWrite(errPipe[1]);
  UniqueFd devNull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devNull) throwErrno("open /dev/null");
  SpawnOptions options;
  options.path = toolPath(tool);
  options.argv = {tool};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  options.fds = {{0, devNull.get()}, {1, outWrite.get()}, {2, errWrite.get()}};
  options.fds.insert(options.fds.end(), fds.begin(), fds.end());
  pid_t pid = spawn(options);
  outWrite.reset();
  errWrite.reset();
  std::vector<ReadOutcome> read =
      readToEnd({outRead.get(), errRead.get()}, kToolTimeout, kMaxOutput);
  std::string& out = read[0].output;
  std::string& err = read[1].output;
  bool finished = read[0].endOfFile && read[1].endOfFile;
  std::optional<int> status = finished ? waitWithTimeout(pid, kToolTimeout) : std::nullopt;
  if (!status) {
    kill(pid, SIGKILL);
    waitWithTimeout(pid, -1);
    throw Error(commandLine(tool, args) + ": timed out");
  }
  if (*status != 0) {
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    throw Error(commandLine(tool, args) + ": " + (err.empty() ? describeWaitStatus(*status) : err));
  }
  return out;
}

}  // namespace runvirt::backend

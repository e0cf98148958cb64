#include "support/command.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdexcept>

namespace runvirt::testsupport {

namespace {

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

std::vector<char*> cArgs(const std::vector<std::string>& args) {
  std::vector<char*> out;
  for (const auto& a : args) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result runCommand(const std::vector<std::string>& argv, const std::string& input,
                  double timeoutSeconds) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    auto args = cArgs(argv);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  // Wait for the command to exit, not for end of file: after `create`, the container's
  // monitor keeps the command's stdout and stderr (they are the container's), as with runc.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(err[0], F_SETFL, O_NONBLOCK);
  Result result;
  std::size_t written = 0;
  int openIn = in[1];
  if (input.empty()) {
    close(openIn);
    openIn = -1;
  }
  auto drain = [&](int fd, std::string& into) {
    char buf[65536];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
      into.append(buf, static_cast<std::size_t>(n));
  };
  double deadline = now() + timeoutSeconds;
  bool exited = false, timedOut = false;
  while (!exited) {
    std::vector<pollfd> fds = {{pidfd, POLLIN, 0}, {out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    if (openIn >= 0) fds.push_back({openIn, POLLOUT, 0});
    int ms = static_cast<int>((deadline - now()) * 1000);
    if (ms <= 0) {
      timedOut = true;
      break;
    }
    if (poll(fds.data(), fds.size(), ms) < 0) continue;
    drain(out[0], result.out);
    drain(err[0], result.err);
    if (openIn >= 0 && fds.back().revents) {
      ssize_t n = write(openIn, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == input.size()) {
        close(openIn);
        openIn = -1;
      }
    }
    exited = fds[0].revents != 0;
  }
  if (openIn >= 0) close(openIn);
  if (timedOut) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  drain(out[0], result.out);
  drain(err[0], result.err);
  close(out[0]);
  close(err[0]);
  close(pidfd);
  result.status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  if (timedOut) {
    std::string line;
    for (const auto& a : argv) line += a + " ";
    ADD_FAILURE() << "timed out after " << timeoutSeconds << " s: " << line;
  }
  return result;
}

}  // namespace runvirt::testsupport

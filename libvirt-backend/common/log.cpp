#include "common/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace runvirt::log {

namespace {

Options gOptions;
int gFd = STDERR_FILENO;
Level gMinimum = Level::Info;

const char* levelName(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warning:
      return "warning";
    case Level::Error:
      return "error";
  }
  return "info";
}

std::string formatTime(bool nanos) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char buf[64];
  std::size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  if (nanos) n += snprintf(buf + n, sizeof buf - n, ".%09ld", ts.tv_nsec);
  snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

// Text lines follow logrus as runc prints them: time="..." level=error msg="..."
std::string textLine(Level level, std::string_view message) {
  std::string quotedMessage = nlohmann::json(std::string(message)).dump();
  return "time=\"" + formatTime(false) + "\" level=" + levelName(level) + " msg=" + quotedMessage +
         "\n";
}

std::string jsonLine(Level level, std::string_view message) {
  nlohmann::json j = {
      {"level", levelName(level)}, {"msg", std::string(message)}, {"time", formatTime(false)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// What `--log /dev/stderr` and the like lead to: a pipe, socket, terminal or /dev/null.
bool isStream(int fd) {
  struct stat st {};
  if (fstat(fd, &st) < 0) return false;
  return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(fd) ||
         (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
}

// The --log file, created when missing and appended to, as runc does. A symlink as its last
// component is followed only to a stream (`--log /dev/stderr`): never to a file or device that
// root would then create or append to.
int openLogFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd >= 0 || errno != ELOOP) return fd;
  fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd >= 0 && !isStream(fd)) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void configure(const Options& options) {
  if (gFd != STDERR_FILENO) close(gFd);
  gOptions = options;
  gFd = STDERR_FILENO;
  if (!options.path.empty()) {
    int fd = openLogFile(options.path);
    // Like runc, a log file that cannot be opened falls back to stderr rather than failing.
    if (fd >= 0) gFd = fd;
  }
}

const Options& options() { return gOptions; }

bool toFile() { return gFd != STDERR_FILENO; }

void setMinimumLevel(Level minimum) { gMinimum = minimum; }

void write(Level level, std::string_view message) {
  if (level == Level::Debug ? !gOptions.debug : level < gMinimum) return;
  std::string line =
      gOptions.format == Format::Json ? jsonLine(level, message) : textLine(level, message);
  // One write per line: O_APPEND keeps lines from the CLI and the monitor whole.
  [[maybe_unused]] ssize_t n = ::write(gFd, line.data(), line.size());
}

std::string nowRfc3339Nano() { return formatTime(true); }

double monotonicSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

}  // namespace runvirt::log

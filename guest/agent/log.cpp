#include "log.hpp"

#include <time.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>

namespace runvirt::agent::log {

namespace {

int gFd = 2;
bool gDebug = false;

constexpr int kLinesPerSecond = 50;  // beyond this, lines are counted and dropped
long gWindowStart = -1;
int gLinesInWindow = 0;
int gDropped = 0;

double uptimeSeconds() {
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  return double(now.tv_sec) + double(now.tv_nsec) / 1e9;
}

void writeLine(const char* text, int length) {
  while (length > 0) {
    ssize_t n = ::write(gFd, text, std::size_t(length));
    if (n <= 0) return;  // nowhere else to report a logging failure
    text += n;
    length -= int(n);
  }
}

bool admitLine(double now) {
  long second = long(now);
  if (second != gWindowStart) {
    if (gDropped > 0) {
      char note[96];
      int n = std::snprintf(note, sizeof note, "[%8.3f] runvirt-agent: %d log lines dropped\n", now,
                            gDropped);
      writeLine(note, n);
    }
    gWindowStart = second;
    gLinesInWindow = 0;
    gDropped = 0;
  }
  if (gLinesInWindow >= kLinesPerSecond) {
    ++gDropped;
    return false;
  }
  ++gLinesInWindow;
  return true;
}

void emit(const char* level, const char* format, va_list args) {
  double now = uptimeSeconds();
  if (!admitLine(now)) return;
  char line[1024];
  int n = std::snprintf(line, sizeof line, "[%8.3f] runvirt-agent: %s: ", now, level);
  n += std::vsnprintf(line + n, sizeof line - std::size_t(n) - 1, format, args);
  if (n > int(sizeof line) - 2) n = int(sizeof line) - 2;
  line[n++] = '\n';
  writeLine(line, n);
}

}  // namespace

void configure(int fd, bool debug) {
  gFd = fd;
  gDebug = debug;
}

bool debugEnabled() { return gDebug; }

int outputFd() { return gFd; }

void debug(const char* format, ...) {
  if (!gDebug) return;
  va_list args;
  va_start(args, format);
  emit("debug", format, args);
  va_end(args);
}

void warn(const char* format, ...) {
  va_list args;
  va_start(args, format);
  emit("warning", format, args);
  va_end(args);
}

void error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  emit("error", format, args);
  va_end(args);
}

}  // namespace runvirt::agent::log

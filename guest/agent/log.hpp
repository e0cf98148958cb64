// Agent logging to /dev/console (the VM's serial port, a file on the host). Serial output is
// slow under TCG, so only warnings and errors are written unless the kernel command line
// has runvirt.debug=1, and lines are rate-limited.
#pragma once

namespace runvirt::agent::log {

// Where lines go (an fd the logger does not own) and whether debug lines are written.
void configure(int fd, bool debug);
bool debugEnabled();
int outputFd();

void debug(const char* format, ...) __attribute__((format(printf, 1, 2)));
void warn(const char* format, ...) __attribute__((format(printf, 1, 2)));
void error(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace runvirt::agent::log

#include "channel.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "log.hpp"
#include "runvirt/error.hpp"

namespace runvirt::agent {

void Channel::send(std::string_view frame) {
  while (!frame.empty()) {
    ssize_t n = ::write(port_.get(), frame.data(), frame.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      log::error("write to host channel: %s", std::strerror(errno));
      return;
    }
    frame.remove_prefix(std::size_t(n));
  }
}

bool Channel::readAvailable() {
  char buffer[64 * 1024];
  ssize_t n = ::read(port_.get(), buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n < 0) throwErrno("read from host channel");
  if (n == 0) {
    decoder_ = FrameDecoder();
    return false;
  }
  try {
    decoder_.feed(buffer, std::size_t(n));
  } catch (const Error& e) {
    // The stream cannot be resynchronised reliably; start over with the next bytes.
    log::error("dropping host input: %s", e.what());
    decoder_ = FrameDecoder();
  }
  return true;
}

}  // namespace runvirt::agent

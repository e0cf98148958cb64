#include "poll_set.hpp"

#include <cerrno>
#include <exception>

#include "log.hpp"
#include "runvirt/error.hpp"

namespace runvirt::agent {

void PollSet::add(int fd, short events, Handler handler) {
  fds_.push_back({fd, events, 0});
  handlers_.push_back(std::move(handler));
}

void PollSet::wait(int timeoutMs) {
  int ready = ::poll(fds_.data(), fds_.size(), timeoutMs);
  if (ready < 0 && errno == EINTR) return;
  if (ready < 0) throwErrno("poll");
  for (std::size_t i = 0; i < fds_.size() && ready > 0; ++i) {
    if (!fds_[i].revents) continue;
    --ready;
    try {
      handlers_[i](fds_[i].revents);
    } catch (const std::exception& e) {
      log::error("%s", e.what());
    }
  }
}

}  // namespace runvirt::agent

// One round of poll(2) over descriptors registered with handlers; rebuilt every loop
// iteration, so owners register only what they currently need.
#pragma once

#include <poll.h>

#include <functional>
#include <vector>

namespace runvirt::agent {

class PollSet {
 public:
  using Handler = std::function<void(short revents)>;

  void add(int fd, short events, Handler handler);
  // Waits up to `timeoutMs` (-1 = no limit), then runs the handlers of ready descriptors in
  // the order they were added. A handler that throws is logged; the others still run.
  void wait(int timeoutMs);

 private:
  std::vector<pollfd> fds_;
  std::vector<Handler> handlers_;
};

}  // namespace runvirt::agent

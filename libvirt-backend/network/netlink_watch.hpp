// Tells when the calling thread's network namespace changes: links, addresses or routes come
// or go (rtnetlink multicast groups). The monitor follows the container's namespace with it
// (container_network.hpp); what changed is read again from the namespace, not from the events.
#pragma once

#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

class NetlinkWatch {
 public:
  // Subscribes in the calling thread's network namespace (non-blocking).
  NetlinkWatch();

  int fd() const { return fd_.get(); }
  // Reads every event queued; true when there was any (or the kernel dropped some: a full
  // queue means changes went unseen, which counts as a change).
  bool drain();

 private:
  UniqueFd fd_;
};

}  // namespace runvirt::backend

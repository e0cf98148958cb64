// The guest end of the DNS relay (the host end is libvirt-backend's dns_relay.hpp): serves
// UDP and TCP at kDnsAddress:53 for the container, which shares the VM's network namespace,
// and passes each query to the host over the DNS port. Queries get ids of the relay's own
// while in flight, so answers find their client whoever else asks at the same time.
// Never blocks the agent: the port and every socket are non-blocking, buffers are bounded and
// what does not fit is dropped (DNS clients retry).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <map>
#include <string>

#include "poll_set.hpp"
#include "process_table.hpp"
#include "runvirt/agent/dns_frames.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::agent {

class DnsRelay {
 public:
  // `port`: the DNS virtio-serial port (or any stream), opened non-blocking. Binds `listen`.
  DnsRelay(UniqueFd port, const sockaddr_in& listen);

  // Registers what the relay waits for now; also forgets expired queries and idle clients.
  void addToPoll(PollSet& set, Clock::time_point now);
  // Milliseconds until the relay needs a look without any fd ready; -1 for never.
  int msUntilNextDeadline(Clock::time_point now) const;

 private:
  struct Pending {
    std::uint16_t clientId = 0;
    std::string query;  // as the client sent it: its question, for a truncated answer
    bool tcp = false;
    sockaddr_in client{};          // UDP
    std::uint64_t connection = 0;  // TCP
    Clock::time_point expires;
  };
  struct Connection {
    UniqueFd fd;
    dns::FrameDecoder in;
    std::string out;
    Clock::time_point lastActive;
    bool readClosed = false;  // the client shut its sending side
  };

  void onPort(short revents);
  void onUdp();
  void onAccept();
  void onConnection(std::uint64_t id, short revents);
  void forward(std::string query, Pending origin);
  void deliver(std::string answer);
  void expire(Clock::time_point now);

  UniqueFd port_, udp_, listener_;
  dns::FrameDecoder fromHost_;
  std::string toHost_;
  Clock::time_point portRetryAt_{};
  std::map<std::uint16_t, Pending> pending_;
  std::map<std::uint64_t, Connection> connections_;
  std::uint64_t nextConnection_ = 1;
  std::uint16_t nextId_ = 1;
};

}  // namespace runvirt::agent

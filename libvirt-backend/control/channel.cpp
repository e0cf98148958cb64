#include "control/channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "runvirt/error.hpp"
#include "runvirt/fd_passing.hpp"

namespace runvirt::backend::control {

namespace {

sockaddr_un address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Error("control socket path too long: " + path);
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return addr;
}

void sendPacket(int connection, const std::string& text, const std::vector<int>& fds) {
  if (text.size() > kMaxMessageBytes) throw Error("control message too large");
  if (fds.size() > kMaxFds) throw Error("too many fds for one control message");
  withContext("control socket", [&] { sendWithFds(connection, text, fds); });
}

struct Packet {
  nlohmann::json json;
  std::vector<UniqueFd> fds;
};

// One packet, parsed as JSON; std::nullopt at end of file. The fds that came with it are
// owned (closed) whatever happens next.
std::optional<Packet> receivePacket(int connection) {
  std::optional<FdMessage> message;
  try {
    message = receiveWithFds(connection, kMaxMessageBytes, kMaxFds);
  } catch (Error& e) {
    throw Error("control socket: " + e.message(), ErrorKind::InvalidArgument);
  }
  if (!message) return std::nullopt;
  Packet packet{nlohmann::json::parse(message->bytes, nullptr, false), std::move(message->fds)};
  if (packet.json.is_discarded())
    throw Error("control message is not JSON", ErrorKind::InvalidArgument);
  return packet;
}

}  // namespace

UniqueFd connect(const std::string& socketPath) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) throwErrno("socket");
  sockaddr_un addr = address(socketPath);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    if (errno == ENOENT || errno == ECONNREFUSED)
      throw Error("container not running", ErrorKind::NotRunning);
    throwErrno("connect to " + socketPath);
  }
  return fd;
}

UniqueFd listen(const std::string& socketPath) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throwErrno("socket");
  sockaddr_un addr = address(socketPath);
  unlink(socketPath.c_str());
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    throwErrno("bind " + socketPath);
  if (chmod(socketPath.c_str(), 0600) < 0) throwErrno("chmod " + socketPath);
  if (::listen(fd.get(), 16) < 0) throwErrno("listen " + socketPath);
  return fd;
}

std::pair<UniqueFd, UniqueFd> reportChannel() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) throwErrno("socketpair");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void send(int connection, const Request& request, const std::vector<int>& fds) {
  sendPacket(connection, toJson(request).dump(), fds);
}

void send(int connection, const Reply& reply) { sendPacket(connection, toJson(reply).dump(), {}); }

void sendIfConnected(int connection, const Reply& reply) {
  try {
    send(connection, reply);
  } catch (const Error&) {
    // The client went away; nothing to tell it.
  }
}

std::optional<ReceivedRequest> receiveRequest(int connection) {
  auto packet = receivePacket(connection);
  if (!packet) return std::nullopt;
  return ReceivedRequest{parseRequest(packet->json), std::move(packet->fds)};
}

std::optional<Reply> receiveReply(int connection) {
  auto packet = receivePacket(connection);
  if (!packet) return std::nullopt;
  return parseReply(packet->json);
}

Reply call(const std::string& socketPath, const Request& request, double timeoutSeconds) {
  UniqueFd fd = connect(socketPath);
  send(fd.get(), request);
  pollfd p{fd.get(), POLLIN, 0};
  int rc;
  do {
    rc = poll(&p, 1, static_cast<int>(timeoutSeconds * 1000));
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) throw Error("the container's monitor did not answer", ErrorKind::Timeout);
  auto reply = receiveReply(fd.get());
  if (!reply) throw Error("container not running", ErrorKind::NotRunning);
  if (auto* failed = std::get_if<Failed>(&*reply)) throw Error(failed->error);
  return *reply;
}

}  // namespace runvirt::backend::control

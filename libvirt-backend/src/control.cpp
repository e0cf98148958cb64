#include "runvirt/backend/control.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "runvirt/error.hpp"

namespace runvirt::backend::control {

namespace {

constexpr std::size_t kMaxMessage = 1 << 20;

sockaddr_un address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Error("control socket path too long: " + path);
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return addr;
}

void sendMessage(int fd, const nlohmann::json& message) {
  std::string text = message.dump();
  if (::send(fd, text.data(), text.size(), MSG_NOSIGNAL) < 0) throwErrno("send to control socket");
}

std::optional<nlohmann::json> receiveMessage(int fd) {
  std::string buf(kMaxMessage, '\0');
  ssize_t n;
  do {
    n = ::recv(fd, buf.data(), buf.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  buf.resize(static_cast<std::size_t>(n));
  auto json = nlohmann::json::parse(buf, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  return json;
}

}  // namespace

nlohmann::json call(const std::string& socketPath, const nlohmann::json& request, double timeoutSeconds) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) throwErrno("socket");
  sockaddr_un addr = address(socketPath);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) throw Error("container not running", ErrorKind::NotRunning);
    throwErrno("connect to " + socketPath);
  }
  sendMessage(fd.get(), request);
  pollfd p{fd.get(), POLLIN, 0};
  int rc;
  do {
    rc = poll(&p, 1, static_cast<int>(timeoutSeconds * 1000));
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) throw Error("the container's monitor did not answer", ErrorKind::Timeout);
  auto reply = receiveMessage(fd.get());
  if (!reply) throw Error("container not running", ErrorKind::NotRunning);
  if (reply->contains("error")) throw Error(reply->at("error").get<std::string>());
  return *reply;
}

UniqueFd listen(const std::string& socketPath) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throwErrno("socket");
  sockaddr_un addr = address(socketPath);
  unlink(socketPath.c_str());
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) throwErrno("bind " + socketPath);
  if (chmod(socketPath.c_str(), 0600) < 0) throwErrno("chmod " + socketPath);
  if (::listen(fd.get(), 16) < 0) throwErrno("listen " + socketPath);
  return fd;
}

std::optional<nlohmann::json> receive(int connection) { return receiveMessage(connection); }

void reply(int connection, const nlohmann::json& message) {
  try {
    sendMessage(connection, message);
  } catch (const Error&) {
    // The client went away; nothing to tell it.
  }
}

}  // namespace runvirt::backend::control

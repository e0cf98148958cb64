#include "monitor/terminal.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "runvirt/error.hpp"

namespace runvirt::backend {

HostPty openHostPty() {
  HostPty pty;
  pty.master.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master) throwErrno("open pty master");
  if (grantpt(pty.master.get()) < 0 || unlockpt(pty.master.get()) < 0) throwErrno("unlock pty");
  char name[128];
  if (ptsname_r(pty.master.get(), name, sizeof name) != 0) throwErrno("ptsname");
  pty.slaveName = name;
  pty.slave.reset(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.slave) throwErrno("open " + pty.slaveName);
  return pty;
}

void sendConsoleMaster(const std::string& path, int master, const std::string& name) {
  UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) throwErrno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Error("console socket path too long: " + path);
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    throwErrno("connect to console socket " + path);
  }
  iovec iov{const_cast<char*>(name.data()), name.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &master, sizeof(int));
  if (sendmsg(sock.get(), &msg, MSG_NOSIGNAL) < 0) throwErrno("send pty to console socket " + path);
}

void becomeControllingTerminal(int fd) {
  if (ioctl(fd, TIOCSCTTY, 0) < 0) throwErrno("make the pty the controlling terminal");
}

std::optional<WindowSize> windowSize(int fd) {
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || (ws.ws_row == 0 && ws.ws_col == 0)) return std::nullopt;
  return WindowSize{ws.ws_row, ws.ws_col};
}

RawMode::RawMode(int fd) {
  if (tcgetattr(fd, &saved_) < 0) throwErrno("read terminal settings");
  termios raw = saved_;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSANOW, &raw) < 0) throwErrno("set terminal raw");
  fd_ = fd;
}

RawMode::RawMode(RawMode&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), saved_(other.saved_) {}

RawMode& RawMode::operator=(RawMode&& other) noexcept {
  if (this != &other) {
    restore();
    fd_ = std::exchange(other.fd_, -1);
    saved_ = other.saved_;
  }
  return *this;
}

void RawMode::restore() {
  if (fd_ >= 0) tcsetattr(fd_, TCSANOW, &saved_);
  fd_ = -1;
}

}  // namespace runvirt::backend

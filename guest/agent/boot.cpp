#include "boot.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "container_setup.hpp"
#include "file_util.hpp"
#include "log.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "syscalls.hpp"

namespace runvirt::agent {

namespace {

constexpr auto kPortWait = std::chrono::seconds(10);
constexpr auto kShareWait = std::chrono::seconds(1);
constexpr auto kRetryInterval = std::chrono::milliseconds(5);

void makeDirectory(const std::string& path, mode_t mode = 0755) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) throwErrno("mkdir " + quote(path));
}

// Retries `attempt` until it returns true or `limit` passed: virtio ports appear
// asynchronously after their driver loaded.
template <class F>
bool retryFor(std::chrono::milliseconds limit, F&& attempt) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!attempt()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kRetryInterval);
  }
  return true;
}

// The host's hello, or std::nullopt (logged) for anything else.
std::optional<HelloAck> parseHello(const Frame& frame) {
  try {
    if (frame.type != FrameType::Message) throw Error("data before hello");
    auto message = parseHostMessage(decodeMessage(frame.payload));
    if (const auto* ack = std::get_if<HelloAck>(&message)) return *ack;
    throw Error("request before hello");
  } catch (const Error& e) {
    log::warn("dropped a frame from the host: %s", e.what());
    return std::nullopt;
  }
}

std::optional<std::string> findPortDevice(std::string_view portName) {
  DIR* dir = ::opendir("/sys/class/virtio-ports");
  if (!dir) return std::nullopt;
  std::optional<std::string> found;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::string port = entry->d_name;
    auto name = readFileIfExists("/sys/class/virtio-ports/" + port + "/name");
    if (name && trimRight(*name) == portName) found = "/dev/" + port;
  }
  ::closedir(dir);
  return found;
}

double uptimeSeconds() {
  std::istringstream in(readFile("/proc/uptime"));
  double uptime = 0;
  in >> uptime;
  return uptime;
}

}  // namespace

UniqueFd mountEarlyFilesystems() {
  constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  sys::mountFilesystem("proc", "/proc", "proc", kSafe, "");
  sys::mountFilesystem("sysfs", "/sys", "sysfs", kSafe, "");
  sys::mountFilesystem("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  makeDirectory("/dev/pts");
  sys::mountFilesystem("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                       "mode=0620,ptmxmode=0666");
  UniqueFd console(::open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC));
  if (!console) throwErrno("open /dev/console");
  return console;
}

bool debugRequested() {
  std::istringstream words(readFile("/proc/cmdline"));
  std::string word;
  while (words >> word) {
    if (word == "runvirt.debug=1") return true;
  }
  return false;
}

void makeRootPivotable() {
  const std::string staging = "/.agent-root";
  makeDirectory(staging);
  sys::bindMount("/", staging, 0);
  if (::chdir(staging.c_str()) != 0) throwErrno("chdir " + quote(staging));
  sys::moveMount(".", "/");
  sys::changeRoot(".");
  if (::chdir("/") != 0) throwErrno("chdir /");
  ::rmdir(staging.c_str());  // the empty mountpoint left behind; not worth failing for
}

void loadModules() {
  std::istringstream names(readFile("/lib/modules/load.list"));
  std::string name;
  while (std::getline(names, name)) {
    if (name.empty()) continue;
    std::string path = "/lib/modules/" + name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    try {
      if (!fd) throwErrno("open " + quote(path));
      bool loaded = sys::loadKernelModule(fd.get(), name);
      log::debug("module %s %s", name.c_str(), loaded ? "loaded" : "was already loaded");
    } catch (const Error& e) {
      log::error("%s", e.what());  // the device it drives will be missing; keep going
    }
  }
}

void bringLoopbackUp() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throwErrno("socket for lo");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) throwErrno("get flags of lo");
  request.ifr_flags |= IFF_UP;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) throwErrno("bring lo up");
}

void mountShare() {
  makeDirectory("/run/runvirt");
  makeDirectory(kShareDir);
  makeDirectory(kContainersDir, 0700);
  std::string lastError;
  bool mounted = retryFor(kShareWait, [&] {
    try {
      sys::mountFilesystem(std::string(kShareTag), kShareDir, "virtiofs", MS_NOSUID | MS_NODEV, "");
      return true;
    } catch (const Error& e) {
      lastError = e.what();
      return false;
    }
  });
  if (!mounted) {
    log::warn("no container share: %s", lastError.c_str());
    return;
  }
  // The volumes share, inside the first at its empty volumes/ (both virtio-fs devices probe
  // together: no second wait).
  std::string volumes = std::string(kShareDir) + "/" + std::string(kVolumesMountPoint);
  try {
    sys::mountFilesystem(std::string(kVolumesTag), volumes, "virtiofs", MS_NOSUID | MS_NODEV, "");
  } catch (const Error& e) {
    log::warn("no volumes share: %s", e.what());
  }
}

UniqueFd openVirtioPort(std::string_view name, std::chrono::milliseconds wait, int flags) {
  std::optional<std::string> device;
  UniqueFd port;
  bool opened = retryFor(wait, [&] {
    device = findPortDevice(name);
    if (!device) return false;
    port = UniqueFd(::open(device->c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC | flags));
    return bool(port);
  });
  if (!opened) {
    throw Error("virtio-serial port " + quote(name) +
                (device ? " found at " + quote(*device) + " but cannot be opened" : " not found"));
  }
  log::debug("port %s is %s", std::string(name).c_str(), device->c_str());
  return port;
}

UniqueFd openHostPort() {
  return openVirtioPort(kChannelName,
                        std::chrono::duration_cast<std::chrono::milliseconds>(kPortWait), 0);
}

void exchangeHello(Channel& channel) {
  utsname names{};
  ::uname(&names);
  Hello hello{kProtocolVersion, names.machine, names.release, uptimeSeconds()};
  log::debug("hello at uptime %.2f s", hello.uptime);
  channel.send(encodeMessage(toJson(GuestMessage{hello})));
  for (;;) {
    pollfd port{channel.fd(), POLLIN, 0};
    if (::poll(&port, 1, -1) < 0 && errno != EINTR) throwErrno("poll host channel");
    if (!channel.readAvailable()) {  // no host connected yet
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    while (auto frame = channel.nextFrame()) {
      auto ack = parseHello(*frame);
      if (!ack) continue;
      if (ack->version != kProtocolVersion) {
        throw Error("host speaks protocol version " + std::to_string(ack->version) +
                    ", this agent speaks " + std::to_string(kProtocolVersion));
      }
      return;
    }
  }
}

}  // namespace runvirt::agent

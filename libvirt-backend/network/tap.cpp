#include "network/tap.hpp"

#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <random>
#include <sstream>

#include "common/files.hpp"
#include "network/net_tool.hpp"
#include "network/network_namespace.hpp"
#include "runvirt/error.hpp"
#include "runvirt/file_io.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::backend {

namespace {

constexpr std::string_view kTapPrefix = "rv";
constexpr std::size_t kTapHexDigits = 10;
constexpr const char* kTapRecord = "taps";

ifreq interfaceRequest(const std::string& name) {
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return req;
}

// The driver behind `name` in the calling thread's network namespace; empty when absent.
std::string driverOf(const std::string& name) {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throwErrno("socket");
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq req = interfaceRequest(name);
  req.ifr_data = reinterpret_cast<char*>(&info);
  if (ioctl(sock.get(), SIOCETHTOOL, &req) < 0) {
    if (errno == ENODEV) return "";
    throwErrno("read the driver of " + quote(name));
  }
  return info.driver;
}

}  // namespace

std::string newTapName() {
  std::random_device random;
  std::uniform_int_distribution<int> digit(0, 15);
  std::string name(kTapPrefix);
  for (std::size_t i = 0; i < kTapHexDigits; ++i) name += "0123456789abcdef"[digit(random)];
  return name;
}

bool isTapName(std::string_view name) {
  if (name.size() != kTapPrefix.size() + kTapHexDigits ||
      name.substr(0, kTapPrefix.size()) != kTapPrefix) {
    return false;
  }
  for (char c : name.substr(kTapPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void createTap(const std::string& name, int namespaceFd) {
  if (!isTapName(name)) throw Error("invalid tap name " + quote(name), ErrorKind::InvalidArgument);
  NetworkNamespaceScope host(namespaceFd);
  // TUNSETIFF attaches to an existing tap of that name: never take over someone else's.
  if (if_nametoindex(name.c_str()) != 0) throw Error("tap " + quote(name) + " already exists");
  // The tun fd belongs to the namespace it was opened in, and so does the device it makes.
  UniqueFd tun(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!tun) throwErrno("open /dev/net/tun");
  ifreq req = interfaceRequest(name);
  req.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(tun.get(), TUNSETIFF, &req) < 0) throwErrno("create tap " + quote(name));
  // Persistent: the device outlives this fd, so libvirt can open it by name.
  if (ioctl(tun.get(), TUNSETPERSIST, 1) < 0) throwErrno("make tap " + quote(name) + " persistent");
}

void recordTaps(const std::string& vmDir, const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += name + "\n";
  writeFileAtomic(vmDir + "/" + kTapRecord, text, 0600);
}

std::vector<std::string> recordedTaps(const std::string& vmDir) {
  std::vector<std::string> names;
  std::string text;
  try {
    text = readFile(vmDir + "/" + kTapRecord);
  } catch (const Error&) {
    return names;
  }
  std::istringstream lines(text);
  for (std::string name; std::getline(lines, name);) {
    if (isTapName(name)) names.push_back(name);
  }
  return names;
}

void removeHostTaps(const std::vector<std::string>& names, int namespaceFd) {
  if (names.empty()) return;
  std::optional<NetworkNamespaceScope> host;
  if (namespaceFd >= 0) host.emplace(namespaceFd);
  std::string errors;
  for (const auto& name : names) {
    try {
      if (!isTapName(name) || driverOf(name) != "tun") continue;
      runNetTool("ip", {"link", "delete", "dev", name});
    } catch (const Error& e) {
      errors += (errors.empty() ? "" : "; ") + e.message();
    }
  }
  if (!errors.empty()) throw Error("remove taps: " + errors);
}

}  // namespace runvirt::backend

// The host <-> guest agent protocol: one definition shared by runvirt (host) and
// runvirt-agent (guest, static). Everything crossing the channel is described here.
//
// Wire format (see framing.hpp): frames of [u32 big-endian payload length][u8 frame type][payload].
//   FrameType::Message: payload is one JSON object with a "type" field (the structs below).
//   FrameType::Data:    payload is [u32 BE process][u8 stream][bytes]: stdio of one process.
//
// Conversation:
//   guest -> host  hello {version, arch, kernel, uptime}  as soon as the agent opened its port
//   host  -> guest hello {version}                         the host accepts the guest's version
//   host  -> guest requests {type, id, ...}; guest answers response {id, error?, pid?, pids?}
//   guest -> host  exit {process, code | signal}           after all output of that process was
//   sent
// Messages are parsed strictly: unknown fields and wrong types are errors, not ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace runvirt::agent {

inline constexpr int kProtocolVersion = 1;
// Name of the virtio-serial port; the agent finds its device through /sys/class/virtio-ports.
inline constexpr std::string_view kChannelName = "org.runvirt.agent.0";
// virtio-fs tag of the per-container share: the host dir holding rootfs/ (the container's image,
// cached by the guest as if it were its own: cache=always).
inline constexpr std::string_view kShareTag = "runvirt";
// virtio-fs tag of the volumes share: mounts/<n>/ (each bind mount's source), shared with the
// host and other containers, so the guest keeps no stale copy (virtiofsd's cache=auto: a file
// changed on the host reads as new at its next open, attributes within a second). The agent
// mounts it at volumes/ inside the first share; bind sources are relative to the first share.
inline constexpr std::string_view kVolumesTag = "runvirt-volumes";
inline constexpr std::string_view kVolumesMountPoint = "volumes";
// A second virtio-serial port that carries DNS queries to the container's network namespace on
// the host, where Docker's embedded DNS server listens (kDnsAddress:53). Each message on it is
// [u16 big-endian length][DNS message], as DNS over TCP frames them.
inline constexpr std::string_view kDnsChannelName = "org.runvirt.dns.0";
inline constexpr std::string_view kDnsAddress = "127.0.0.11";

// Identifies a process inside one VM. 0 is the container's init process; exec'd
// processes get numbers chosen by the host, unique for the life of the VM.
using ProcessId = std::uint32_t;
inline constexpr ProcessId kInitProcess = 0;

struct Rlimit {
  int resource = 0;  // RLIMIT_* number (the host translates names)
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// Capability sets as bit masks (bit n = capability number n); the host translates names.
struct Capabilities {
  std::uint64_t bounding = 0;
  std::uint64_t effective = 0;
  std::uint64_t inheritable = 0;
  std::uint64_t permitted = 0;
  std::uint64_t ambient = 0;
};

struct ProcessSpec {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> additionalGids;
  // When set, resolved in the container's /etc/passwd (uid, gid); unknown name = create error.
  std::string username;
  std::optional<std::uint32_t> umask;
  bool terminal = false;
  std::uint16_t rows = 0;  // initial terminal size; 0 = leave the default
  std::uint16_t cols = 0;
  std::vector<Rlimit> rlimits;
  std::optional<Capabilities> capabilities;  // absent = keep all (privileged)
  bool noNewPrivileges = false;
  // Classic BPF program (array of struct sock_filter), compiled on the host with libseccomp.
  // Empty = no filter. Base64 in JSON.
  std::string seccompFilter;
  std::optional<int> oomScoreAdj;
};

// Limits the guest enforces on the container with a cgroup (the VM itself is sized larger):
// exceeding memoryLimit OOM-kills inside the container, as under runc. 0 = no limit.
struct Resources {
  std::int64_t memoryLimit = 0;  // bytes
  std::int64_t pidsLimit = 0;
};

struct Mount {
  std::string destination;  // absolute path inside the container
  std::string type;         // "proc", "tmpfs", "bind", ...
  // For binds: path relative to the share root (e.g. "mounts/3"). Otherwise the fs source.
  std::string source;
  std::vector<std::string> options;  // OCI mount options, e.g. "ro", "nosuid", "mode=755"
};

// A device node the agent creates in the container (OCI linux.devices, `docker run --device`).
// The host checked it before anything started: the path is under /dev, and the guest can
// provide it.
struct Device {
  std::string path;  // absolute, under /dev, inside the container
  std::string type;  // "c" (character), "b" (block) or "p" (FIFO)
  // Character devices: the node's numbers, the same in the guest as on the host for those the
  // guest kernel has. Block devices: unused, the guest's numbers are those of the disk below.
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  // Block devices: the serial of the virtio-blk disk the host handed the VM for this device.
  std::string serial;
  std::uint32_t fileMode = 0666;  // permission bits of the node
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

struct ContainerSpec {
  std::string id;
  std::string rootfs = "rootfs";  // relative to the share root
  bool readonlyRoot = false;
  std::string hostname;
  std::string domainname;
  // Namespaces to create for the container: any of "pid", "uts", "ipc", "cgroup".
  // A mount namespace is always created. The network namespace is the VM's own.
  std::vector<std::string> namespaces;
  std::vector<Mount> mounts;
  std::vector<Device> devices;
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  std::map<std::string, std::string> sysctl;
  Resources resources;
  ProcessSpec process;
};

// ---- guest -> host ----
struct Hello {
  int version = kProtocolVersion;
  std::string arch;    // uname -m, must equal the host's (seccomp filters are per arch)
  std::string kernel;  // uname -r of the guest
  double uptime = 0;   // guest /proc/uptime when the agent said hello (boot time, for logs)
};

struct Response {
  std::uint64_t id = 0;
  std::string error;       // empty = success
  std::optional<int> pid;  // guest pid of a started process
  std::vector<int> pids;   // list_processes: guest pids in the container
};

struct ProcessExited {
  ProcessId process = 0;
  int code = 0;    // exit code when signal == 0
  int signal = 0;  // > 0: killed by this signal
};

using GuestMessage = std::variant<Hello, Response, ProcessExited>;

// ---- host -> guest ----
struct HelloAck {
  int version = kProtocolVersion;
};

// The container's network as Docker configured it in the host network namespace: the guest
// NIC with the same MAC gets the same name, addresses, MTU and routes.
//
// A configure_network states the WHOLE desired network of the guest, not a change to it, and may
// be sent any number of times while the container runs (after Docker's `network connect` and
// `disconnect`, or when Docker plugs its veth in after create). The agent converges on it:
// interfaces get exactly the addresses listed (IPv6 link-local ones aside); a virtio NIC not
// listed is taken down and its hot-plug slot powered off (the host is unplugging it); the routes
// the agent added before and that are not listed any more are deleted. Sending the same request
// twice changes nothing.
struct Interface {
  std::string name;  // e.g. "eth0"
  std::string mac;   // "02:42:ac:11:00:02": identifies the guest NIC
  std::uint32_t mtu = 1500;
  std::vector<std::string> addresses;  // CIDR: "172.17.0.2/16", "fd00::2/64"

  bool operator==(const Interface&) const = default;
};
struct Route {
  std::string destination;  // CIDR, "default" for 0.0.0.0/0 (or ::/0 with an IPv6 gateway)
  std::string gateway;      // empty: directly connected
  std::string device;       // interface name

  bool operator==(const Route&) const = default;
};
struct ConfigureNetwork {
  std::vector<Interface> interfaces;
  std::vector<Route> routes;
  // Serve kDnsAddress:53 in the guest by relaying over the DNS port (Docker's embedded DNS).
  bool dnsRelay = false;
};

// Prepares the container (mounts, root, namespaces, user lookup, executable lookup) without
// running its process; errors here are `create` errors.
struct CreateContainer {
  ContainerSpec container;
};
// Runs the prepared init process. Its output flows as Data frames for kInitProcess.
struct StartContainer {
  std::string container;
};
// Runs one more process in the running container (docker exec).
struct ExecProcess {
  std::string container;
  ProcessId process = 0;
  ProcessSpec spec;
};
struct SignalProcess {
  ProcessId process = 0;
  int signal = 0;
  bool all = false;  // every process of the container, not just `process`
};
struct ResizeTerminal {
  ProcessId process = 0;
  std::uint16_t rows = 0;
  std::uint16_t cols = 0;
};
// The host side of the process's stdin reached end of file.
struct CloseStdin {
  ProcessId process = 0;
};
struct ListProcesses {
  std::string container;
};
// Syncs and powers the VM off (libvirt destroys the domain on the guest's reset).
struct Shutdown {};

using RequestBody =
    std::variant<ConfigureNetwork, CreateContainer, StartContainer, ExecProcess, SignalProcess,
                 ResizeTerminal, CloseStdin, ListProcesses, Shutdown>;
struct Request {
  std::uint64_t id = 0;
  RequestBody body;
};

using HostMessage = std::variant<HelloAck, Request>;

// JSON <-> messages. Parsing is strict and throws runvirt::Error naming the bad field.
nlohmann::json toJson(const GuestMessage& message);
nlohmann::json toJson(const HostMessage& message);
GuestMessage parseGuestMessage(const nlohmann::json& json);
HostMessage parseHostMessage(const nlohmann::json& json);

// A process spec alone (the host passes exec specs between its own processes this way).
nlohmann::json toJson(const ProcessSpec& process);
ProcessSpec parseProcessSpec(const nlohmann::json& json);

// The "type" string of a request body, for logs ("create_container", ...).
std::string requestName(const RequestBody& body);

std::string base64Encode(std::string_view bytes);
std::string base64Decode(std::string_view text);  // throws Error on bad input

}  // namespace runvirt::agent

// runvirt-agent: PID 1 of the guest's initramfs. Boots the VM's userland, says hello to the
// host over virtio-serial and serves requests until the host asks for shutdown. PID 1 must
// never exit (the kernel would panic), so any fatal error logs and reboots: the domain's
// on_reboot=destroy then ends the VM, which the host notices.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

#include "boot.hpp"
#include "log.hpp"
#include "server.hpp"
#include "syscalls.hpp"

using namespace runvirt::agent;

namespace {

void bootAndServe() {
  makeRootPivotable();
  runvirt::UniqueFd console = mountEarlyFilesystems();
  log::configure(console.release(), debugRequested());
  log::debug("agent started");
  signal(SIGPIPE, SIG_IGN);  // a closed stdin pipe is an EPIPE to handle, not a death
  loadModules();
  bringLoopbackUp();
  mountShare();
  Channel channel(openHostPort());
  exchangeHello(channel);
  log::debug("host said hello; serving");
  Server server(channel);
  server.run();
}

}  // namespace

int main() {
  if (getpid() != 1) {
    std::fprintf(stderr, "runvirt-agent: must run as PID 1 inside a runvirt guest VM\n");
    return 2;
  }
  try {
    bootAndServe();
  } catch (const std::exception& e) {
    log::error("fatal: %s", e.what());
  } catch (...) {
    log::error("fatal: unknown exception");
  }
  runvirt::agent::sys::rebootNow();
}

#!/usr/bin/env bash
# Starts virtlogd and libvirtd when they are not running (there is no systemd here) and waits
# until libvirt answers. libvirtd runs under `tini -s`, a subreaper that reaps QEMU as soon as it
# exits; otherwise a slow PID 1 can delay every domain destroy (docs/libvirt-recipe.md §10).
set -euo pipefail

uri=qemu:///system
log_dir=/var/log/runvirt
mkdir -p "$log_dir"

# A daemon that exited lingers as a zombie until PID 1 reaps it (seconds here): not running.
running() {
  local pid state
  for pid in $(pgrep -x "$1"); do
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
    [[ -n "$state" && "$state" != Z ]] && return 0
  done
  return 1
}

if ! running virtlogd; then
  virtlogd -d
fi
if ! virsh -c "$uri" version >/dev/null 2>&1; then
  if ! running libvirtd; then
    setsid tini -s -- libvirtd </dev/null >>"$log_dir/libvirtd.log" 2>&1 &
  fi
  for _ in $(seq 1 150); do
    virsh -c "$uri" version >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
if ! virsh -c "$uri" version >/dev/null 2>&1; then
  echo "start-daemons: libvirtd does not answer at $uri (see $log_dir/libvirtd.log)" >&2
  exit 1
fi
echo "start-daemons: libvirtd is up ($uri)"

# dockerd (with its own containerd) when Docker is installed.
if command -v dockerd >/dev/null; then
  if ! docker info >/dev/null 2>&1; then
    if ! running dockerd; then
      setsid dockerd </dev/null >>"$log_dir/dockerd.log" 2>&1 &
    fi
    for _ in $(seq 1 150); do
      docker info >/dev/null 2>&1 && break
      sleep 0.2
    done
  fi
  if ! docker info >/dev/null 2>&1; then
    echo "start-daemons: dockerd does not answer (see $log_dir/dockerd.log)" >&2
    exit 1
  fi
  echo "start-daemons: dockerd is up"
fi

#!/bin/sh
# Host set-up for the runvirt packages, shared by the deb's and the rpm's maintainer scripts and
# by the kernel hook, so both packages do exactly the same thing:
#
#   host-setup configure              build the guest image (for runvirt's own guest kernel);
#                                     register runvirt and kata in /etc/docker/daemon.json
#                                     (other keys untouched) and reload a running dockerd
#   host-setup remove                 unregister them (and delete daemon.json again if this
#                                     package created it and nothing else is left in it);
#                                     delete the guest image
#   host-setup kernel-installed KVER  rebuild the guest image when KVER is a Debian cloud kernel
#                                     and runvirt's own guest kernel is not installed
#
# Works without systemd: nothing here talks to an init system. The paths are filled in by
# `make install-package`.
set -eu

BINDIR=@BINDIR@
LIBDIR=@LIBDIR@
GUESTDIR=@GUESTDIR@
STATEDIR=$(dirname "$GUESTDIR")

runvirt=$BINDIR/runvirt
daemon_json=${RUNVIRT_DAEMON_JSON:-/etc/docker/daemon.json}
# Present when `configure` created daemon.json: `remove` may then delete it again.
created_marker=$STATEDIR/created-daemon-json

say() { echo "runvirt: $*"; }
warn() { echo "runvirt: warning: $*" >&2; }

build_guest_image() {
  "$LIBDIR/build-guest-image" --agent "$LIBDIR/runvirt-agent" --out "$GUESTDIR"
}

register_docker() {
  if [ ! -e "$daemon_json" ]; then
    mkdir -p "$STATEDIR"
    : >"$created_marker"
  fi
  if ! "$runvirt" install-docker --path "$runvirt" --daemon-json "$daemon_json"; then
    warn "runvirt and kata are not registered in $daemon_json (see above); run 'runvirt install-docker' once that is fixed"
  fi
}

unregister_docker() {
  if [ -x "$runvirt" ] && [ -e "$daemon_json" ]; then
    "$runvirt" uninstall-docker --path "$runvirt" --daemon-json "$daemon_json" ||
      warn "could not remove runvirt's runtimes from $daemon_json (see above)"
  fi
  if [ -e "$created_marker" ] && [ -e "$daemon_json" ] &&
    [ "$(tr -d ' \t\r\n' <"$daemon_json")" = "{}" ]; then
    rm -f "$daemon_json"
    say "removed $daemon_json (created by runvirt, now empty)"
  fi
  rm -f "$created_marker"
}

case "${1:-}" in
  configure)
    build_guest_image
    register_docker
    ;;
  remove)
    unregister_docker
    rm -rf "$GUESTDIR"
    ;;
  kernel-installed)
    kver=${2:-}
    case "$kver" in
      *-cloud-amd64) ;;
      *) exit 0 ;;  # not a kernel runvirt boots
    esac
    # The image is built for runvirt's own kernel: a new cloud kernel changes nothing.
    [ -f "$LIBDIR/guest-kernel/vmlinux" ] && exit 0
    # A failure must not fail the kernel's installation: warn, keep the current image.
    if ! build_guest_image; then
      warn "the guest image was not rebuilt for $kver; containers keep booting the previous one." \
        "Rebuild: $LIBDIR/build-guest-image --agent $LIBDIR/runvirt-agent --out $GUESTDIR"
    fi
    ;;
  *)
    echo "usage: host-setup configure | remove | kernel-installed KVER" >&2
    exit 2
    ;;
esac

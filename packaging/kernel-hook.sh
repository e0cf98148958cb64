#!/bin/sh
# runvirt: rebuilds the guest image (@GUESTDIR@) when a Debian cloud kernel is installed and the
# image is built from one (not from runvirt's own guest kernel).
# The kernel packages run /etc/kernel/postinst.d/* with the kernel version as $1.
set -e
setup=@LIBDIR@/host-setup
# runvirt removed but not purged: this file stays (a conffile) while the rest is gone.
[ -x "$setup" ] || exit 0
exec "$setup" kernel-installed "$1"

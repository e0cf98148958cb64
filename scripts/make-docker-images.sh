#!/usr/bin/env bash
# Test images without a registry: `busybox` imported from Debian's busybox-static.
set -euo pipefail
if docker image inspect busybox:latest >/dev/null 2>&1; then
  exit 0
fi
rootfs=$(mktemp -d /tmp/busybox-image.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
bash "$(dirname "$0")/make-busybox-rootfs.sh" "$rootfs"
tar -C "$rootfs" -c . | docker import -c 'CMD ["sh"]' - busybox:latest >/dev/null
echo "make-docker-images: imported busybox:latest"

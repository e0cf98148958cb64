#!/usr/bin/env bash
# make-busybox-rootfs.sh DIR: a minimal container root filesystem from Debian's busybox-static
# (/bin/busybox plus one symlink per applet, /etc/passwd and /etc/group).
set -euo pipefail
dir=${1:?usage: make-busybox-rootfs.sh DIR}
mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root" "$dir/proc" "$dir/sys" "$dir/dev"
chmod 1777 "$dir/tmp"
install -m 0755 /bin/busybox "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
  [[ "$applet" == busybox ]] || ln -sf busybox "$dir/bin/$applet"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
  'user:x:1000:1000:user:/home/user:/bin/sh' > "$dir/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'user:x:1000:' > "$dir/etc/group"

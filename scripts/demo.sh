#!/usr/bin/env bash
# The README's demo: a busybox bundle run by runvirt in its own VM, showing the guest kernel
# next to the host's.
set -euo pipefail
runvirt=${RUNVIRT:-runvirt}
bundle=$(mktemp -d /tmp/runvirt-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
bash "$(dirname "$0")/make-busybox-rootfs.sh" "$bundle/rootfs"
cat > "$bundle/config.json" <<'JSON'
{
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh", "-c", "echo \"guest kernel: $(uname -r) ($(uname -m), $(nproc) vCPU, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB)\"; echo \"hostname:     $(hostname)\""],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/"
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "runvirt-demo",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]}
}
JSON
echo "host kernel:  $(uname -r)"
start=$(date +%s.%N)
"$runvirt" --debug --log "$bundle/runvirt.log" run --bundle "$bundle" "runvirt-demo-$$"
end=$(date +%s.%N)
echo "runvirt run took $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}') s; from its debug log:"
sed -n 's/.*msg="\(accelerator [^"]*\|phase[^"]*\)".*/  \1/p' "$bundle/runvirt.log"

# The same through Docker, registered as runtimes `runvirt` and `kata`.
if command -v docker >/dev/null; then
  "$runvirt" install-docker >/dev/null
  bash "$(dirname "$0")/make-docker-images.sh"
  for runtime in runc runvirt kata; do
    kernel=$(docker run --rm --runtime="$runtime" busybox uname -r)  # a failure ends the demo (set -e)
    printf 'docker run --runtime=%-7s busybox uname -r: %s\n' "$runtime" "$kernel"
    if [[ "$runtime" != runc && "$kernel" == "$(uname -r)" ]]; then
      echo "demo: --runtime=$runtime ran on the host's kernel" >&2
      exit 1
    fi
  done
fi

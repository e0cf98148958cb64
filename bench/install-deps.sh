#!/usr/bin/env bash
# bench/install-deps.sh: what the benchmark needs besides runvirt's own dependencies
# (scripts/install-deps.sh): the peer runtimes runsc (gVisor) and crun, and Debian's python3
# with matplotlib for the orchestration and the chart. Then registers runsc and crun in
# /etc/docker/daemon.json by merging (other keys and runtimes are left as they are; a name
# already registered is left alone) and makes a running dockerd reload. Idempotent: a machine
# that has it all is left alone (no apt-get update, no rewrite of daemon.json).
set -euo pipefail

daemon_json=${DAEMON_JSON:-/etc/docker/daemon.json}
packages=(runsc crun python3 python3-matplotlib busybox-static procps)

bash "$(dirname "$0")/../scripts/install-deps.sh" "${packages[@]}"

# Register the peers in Docker. runsc here cannot set up Docker's bridge networking, so it runs
# with --network=none (the bench gives every runtime `--network none` for the same reason).
rc=0
/usr/bin/python3 - "$daemon_json" "$(command -v runsc)" "$(command -v crun)" <<'PY' || rc=$?
import json, os, sys
path, runsc, crun = sys.argv[1:4]
config = {}
if os.path.exists(path):
    text = open(path).read()
    if text.strip():
        config = json.loads(text)
if not isinstance(config, dict):
    sys.exit(f"bench/install-deps: {path} is not a JSON object; fix it first")
runtimes = config.setdefault("runtimes", {})
wanted = {"runsc": {"path": runsc, "runtimeArgs": ["--network=none"]}, "crun": {"path": crun}}
changed = False
for name, entry in wanted.items():
    if name in runtimes:
        if runtimes[name] != entry:
            print(f"bench/install-deps: left runtime {name} alone: {path} already has {json.dumps(runtimes[name])}")
        continue
    runtimes[name] = entry
    changed = True
    print(f"bench/install-deps: registered runtime {name} -> {json.dumps(entry)}")
if changed:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".bench-tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(config, indent=2) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    sys.exit(10)  # tells the shell to reload dockerd
PY
case $rc in
  0) ;;
  10)
    if pid=$(pidof dockerd); then
      kill -HUP $pid
      # The reload is asynchronous: wait until Docker lists the new runtimes.
      for _ in $(seq 1 50); do
        runtimes=$(docker info --format '{{range $name, $_ := .Runtimes}}{{$name}} {{end}}' 2>/dev/null || true)
        [[ " $runtimes " == *" runsc "* && " $runtimes " == *" crun "* ]] && break
        sleep 0.2
      done
      echo "bench/install-deps: dockerd reloaded its configuration (runtimes: $runtimes)"
    else
      echo "bench/install-deps: dockerd is not running: the change applies when it starts"
    fi
    ;;
  *) exit "$rc" ;;
esac

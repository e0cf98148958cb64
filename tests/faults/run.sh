#!/usr/bin/env bash
# Fault-injection suite: daemons stopped, killed and restarted, parts of a VM killed, owners that
# vanish. Docker drives the installed runvirt (make install); the reaper cases drive build/runvirt
# with the build's guest image, as the integration suite does. Puts every daemon back afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
guest=$PWD/build/guest
cat > build/test-config.toml <<TOML
# Written by tests/faults/run.sh: the build tree's guest image.
[hypervisor]
kernel = "$guest/vmlinux"
initrd = "$guest/initrd.img"
TOML
bash scripts/start-daemons.sh
runvirt install-docker --replace
bash scripts/make-docker-images.sh
status=0
build/fault-tests "$@" || status=$?
bash scripts/start-daemons.sh
exit $status

#!/usr/bin/env bash
# Runs the integration suite against the build tree: build/runvirt with the build's guest image.
set -euo pipefail
cd "$(dirname "$0")/../.."
guest=$PWD/build/guest
cat > build/test-config.toml <<TOML
# Written by tests/integration/run.sh: the build tree's guest image.
[hypervisor]
kernel = "$guest/vmlinux"
initrd = "$guest/initrd.img"
TOML
bash scripts/start-daemons.sh
exec build/integration-tests "$@"

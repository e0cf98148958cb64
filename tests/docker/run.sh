#!/usr/bin/env bash
# Docker suite: the installed runvirt (make install) registered in dockerd next to runc.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/start-daemons.sh
runvirt install-docker
bash scripts/make-docker-images.sh
exec build/docker-tests "$@"

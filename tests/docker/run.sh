#!/usr/bin/env bash
# Docker suite: the installed runvirt (make install) registered in dockerd next to runc.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/start-daemons.sh
# --replace: the names may point at another build (a developer's tree, an older install).
runvirt install-docker --replace
bash scripts/make-docker-images.sh
exec build/docker-tests "$@"

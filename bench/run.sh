#!/usr/bin/env bash
# bench/run.sh [--quick] [bench.py options]: what `make bench` and `make bench-quick` run.
# Benchmarks the *installed* runvirt (the one Docker runs; `make install` first), so it never
# builds or installs anything of runvirt's own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/install-deps.sh"
bash "$here/../scripts/start-daemons.sh"
bash "$here/../scripts/make-docker-images.sh"
# Debian's python3: it has python3-matplotlib (a pyenv or venv python3 first in PATH may not).
exec /usr/bin/python3 "$here/bench.py" "$@"

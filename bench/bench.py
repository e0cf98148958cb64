#!/usr/bin/env python3
"""runvirt's benchmark: start latency, memory per container, density and work inside, against
runc, crun and runsc. `make bench` (full, 20-40 min) or `make bench-quick` (smoke run); see
bench/README.md."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rvbench.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

"""Shared helpers: running commands, statistics, progress output, the cleanup registry."""

import os
import signal
import statistics
import subprocess
import sys
import time

# Docker label on every container the bench starts: leftovers of a crashed run are found by it.
LABEL = "rvbench"


class CommandError(Exception):
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv, self.returncode, self.stdout, self.stderr = argv, returncode, stdout, stderr
        lines = [l.strip() for l in (stderr.strip() or stdout.strip() or "no output").splitlines() if l.strip()]
        # docker's own hint after an error says nothing: keep the line that names the error.
        lines = [l for l in lines if not l.startswith("Run 'docker")] or lines
        errors = [l for l in lines if "rror" in l]
        last = (errors or lines)[-1]
        super().__init__(f"{' '.join(argv[:6])}{' ...' if len(argv) > 6 else ''}: exit {returncode}: {last}")


def run(argv, check=True, timeout=600, input=None):
    """Runs argv, returns (stdout, stderr, seconds of wall time); raises CommandError on failure."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise CommandError(argv, "timeout", "", f"timed out after {timeout} s") from None
    seconds = time.perf_counter() - t0
    if check and p.returncode != 0:
        raise CommandError(argv, p.returncode, p.stdout, p.stderr)
    return p.stdout, p.stderr, seconds


def output(argv, default=None, timeout=60):
    """stdout of argv, stripped; default when the command fails or is missing."""
    try:
        return run(argv, timeout=timeout)[0].strip()
    except (CommandError, OSError):
        return default


def summary(values):
    """median / min / max / n of a list of numbers (None when empty)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Interrupted(Exception):
    pass


def interleaved_rounds(label, warmup, rounds, runtimes, errors):
    """The rounds of a timed figure: yields (runtime, measured) for each runtime of each round,
    runtimes interleaved (A B C A B C ...); the first `warmup` rounds are not measured. A runtime
    whose name is in `errors` (it failed) is skipped from then on."""
    total = warmup + rounds
    for rnd in range(total):
        log(f"{label}: round {rnd + 1}/{total}{' (warm-up)' if rnd < warmup else ''}")
        for r in runtimes:
            if r.name not in errors:
                yield r, rnd >= warmup


def install_signal_handlers():
    """SIGTERM and SIGHUP end the run like Ctrl-C does: through the cleanup in `finally`."""
    def handler(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    # Explicitly: a background job of a non-interactive shell starts with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


class Retry:
    """Runs a measurement, retrying after a pause when it fails: runvirt may be reinstalled under
    the bench (the build tree changes in parallel). Failures are counted for the report."""

    def __init__(self, attempts, pause):
        self.attempts, self.pause = attempts, pause
        self.failures = []  # (what, error message)

    def __call__(self, what, fn):
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except (CommandError, RuntimeError) as e:
                self.failures.append((what, str(e)))
                log(f"  {what} failed ({e}); " +
                    (f"retry in {self.pause:.0f} s" if attempt < self.attempts else "giving up"))
                if attempt == self.attempts:
                    raise
                time.sleep(self.pause)


def fmt_s(v, digits=3):
    return "—" if v is None else f"{v:.{digits}f}"


def fmt_ratio(v):
    return "—" if v is None else f"{v:.2f}×"


def fmt_mib(v, digits=1):
    return "—" if v is None else f"{v:.{digits}f}"


def python_info():
    return f"{sys.version.split()[0]} ({sys.executable})"


def here():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

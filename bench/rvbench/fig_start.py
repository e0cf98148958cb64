"""Figure 1: start latency.

1a `docker run --rm --runtime=R --network none busybox true`, wall time of the docker command.
1b `R run --bundle B id` of a busybox bundle running `true`, without Docker (runvirt with --debug).
1c runvirt's phases, from the debug logs of the 1b runs.
Runtimes are interleaved (A B C A B C ...), one warm-up round first."""

import json
import os
import shutil
import subprocess
import tempfile

from .common import CommandError, interleaved_rounds, log, run, summary
from . import phases


def docker_start(ctx, runtimes):
    samples = {r.name: [] for r in runtimes}
    errors = {}
    for r, measured in interleaved_rounds("start latency (docker)", ctx.warmup, ctx.rounds, runtimes, errors):
        try:
            _, seconds = ctx.retry(f"docker run --runtime={r.name} true",
                                   lambda: ctx.docker.run_rm(r, "busybox", ["true"]))
        except (CommandError, RuntimeError) as e:
            errors[r.name] = str(e)
            continue
        if measured:
            samples[r.name].append(seconds)
    return {r.name: {"runtime": r.kind, "network": r.network, "samples": samples[r.name],
                     "summary": summary(samples[r.name]), "error": errors.get(r.name)}
            for r in runtimes}


# ---------------------------------------------------------------------------------------------
# Bundles without Docker

BUNDLE_CONFIG = {
    "ociVersion": "1.0.2-dev",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": ["true"],
        "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
        "cwd": "/",
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "rvbench",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    ],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                             {"type": "mount"}]},
}


class BundleRunner:
    """One runtime's `run --bundle` with its own state root (so nothing mixes with Docker's)."""

    def __init__(self, kind, binary, root, logdir):
        self.kind, self.binary, self.root, self.logdir = kind, binary, root, logdir
        self.name = kind

    def argv(self, bundle, cid):
        argv = [self.binary, "--root", self.root]
        if self.kind == "runvirt":
            argv += ["--debug", "--log", self.log_path(cid)]
        if self.kind == "runsc":
            argv += ["--network=none"]
        return argv + ["run", "--bundle", bundle, cid]

    def log_path(self, cid):
        return os.path.join(self.logdir, f"{cid}.log")

    def delete(self, cid):
        subprocess.run([self.binary, "--root", self.root, "delete", "--force", cid],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)


def make_bundle(ctx, path):
    rootfs = os.path.join(path, "rootfs")
    run(["bash", os.path.join(ctx.repo, "scripts", "make-busybox-rootfs.sh"), rootfs])
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(BUNDLE_CONFIG, f, indent=2)


def bundle_start(ctx, kinds):
    """kinds: runtimes to run bundles with (runc first: it is the reference)."""
    work = tempfile.mkdtemp(prefix=f"rvbench-bundle-{ctx.run_id}-", dir="/run")
    ctx.on_cleanup(lambda: shutil.rmtree(work, ignore_errors=True))
    bundle = os.path.join(work, "bundle")
    os.makedirs(bundle)
    make_bundle(ctx, bundle)
    logdir = os.path.join(work, "logs")
    os.makedirs(logdir)
    binaries = {"runvirt": ctx.runvirt}
    runners = []
    for kind in kinds:
        binary = binaries.get(kind) or shutil.which(kind)
        if not binary:
            continue
        root = os.path.join(work, f"root-{kind}")
        os.makedirs(root)
        runners.append(BundleRunner(kind, binary, root, logdir))

    samples = {r.name: [] for r in runners}
    phase_runs = []
    errors = {}
    check_errors = {}
    serial = 0

    def once(r):
        nonlocal serial
        serial += 1
        cid = f"rvbench-{ctx.run_id}-b{serial}"
        ctx.on_cleanup_key(cid, lambda: r.delete(cid))
        try:
            _, _, seconds = run(r.argv(bundle, cid), timeout=300)
        except BaseException:
            r.delete(cid)
            raise
        finally:
            ctx.drop_cleanup_key(cid)
        timings = phases.parse_log(r.log_path(cid)) if r.kind == "runvirt" else None
        return seconds, timings

    # A runner that cannot run here at all is reported, not retried in every round.
    for r in list(runners):
        try:
            once(r)
        except (CommandError, RuntimeError) as e:
            check_errors[r.name] = str(e)
            runners.remove(r)
    for r, measured in interleaved_rounds("start latency (bundle)", ctx.warmup, ctx.rounds, runners, errors):
        try:
            seconds, timings = ctx.retry(f"{r.kind} run --bundle", lambda: once(r))
        except (CommandError, RuntimeError) as e:
            errors[r.name] = str(e)
            continue
        if not measured:
            continue
        samples[r.name].append(seconds)
        if timings is not None:
            timings["wall"] = seconds
            timings["unaccounted"] = seconds - phases.accounted(timings)
            phase_runs.append(timings)
    result = {name: {"samples": s, "summary": summary(s), "error": errors.get(name)}
              for name, s in samples.items()}
    for name, e in check_errors.items():
        result[name] = {"samples": [], "summary": None, "error": e}
    return result, phase_summary(phase_runs)


def phase_summary(runs):
    """Median/min/max of every logged phase and of the issue's phases over the runvirt runs."""
    keys = []
    for t in runs:
        for k in t:
            if k not in keys:
                keys.append(k)
    raw = {k: summary([t.get(k) for t in runs]) for k in keys}
    issue = []
    for name, keyset, note in phases.ISSUE_PHASES:
        values = [phases.issue_phase(t, keyset) for t in runs]
        issue.append({"phase": name, "logged": keyset is not None, "note": note, "summary": summary(values)})
    issue.append({"phase": "unaccounted (wall − phases)", "logged": False,
                  "note": "CLI start, spec loading, forking the monitor, waiting for the workload to "
                          "exit, libvirt connections, process exit",
                  "summary": summary([t.get("unaccounted") for t in runs])})
    issue.append({"phase": "wall (runvirt run)", "logged": False, "note": "measured by the bench",
                  "summary": summary([t.get("wall") for t in runs])})
    return {"runs": runs, "raw": raw, "issue": issue}

"""Figure 2: memory per container.

For each runtime: `docker run -d --runtime=R --network none busybox sleep 3600`, idle a few seconds,
then the sum of `Pss:` from /proc/PID/smaps_rollup over every host process the container costs
(docker.container_processes). 1 container: one at a time, rounds interleaved across runtimes.
N containers: N running at once per runtime; the per-container average and the spread."""

import time

from .common import CommandError, interleaved_rounds, log, summary
from . import host
from .docker import measure_container

MIB = 1024.0


def _mib(kib):
    return None if kib is None else kib / MIB


def one_container(ctx, runtimes, rounds, idle):
    samples = {r.name: [] for r in runtimes}
    errors = {}
    for r, measured in interleaved_rounds("memory (1 container)", ctx.warmup, rounds, runtimes, errors):
        def measure_one():
            used0 = host.used_mib()
            cid, _ = ctx.docker.run_detached(r, "busybox", ["sleep", "3600"])
            try:
                time.sleep(idle)
                if not ctx.docker.running(cid):
                    raise RuntimeError(f"container {cid[:12]} is not running after {idle} s")
                m = measure_container(cid, r.kind)
                m["host_used_delta_mib"] = host.used_mib() - used0
            finally:
                ctx.docker.remove([cid])
            return m

        try:
            m = ctx.retry(f"memory of one {r.name} container", measure_one)
        except (CommandError, RuntimeError) as e:
            errors[r.name] = str(e)
            continue
        if measured:
            samples[r.name].append(m)
    return {r.name: _summarise(r, samples[r.name], errors.get(r.name)) for r in runtimes}


def many_containers(ctx, runtimes, n, idle):
    result = {}
    for r in runtimes:
        log(f"memory ({n} containers): {r.name}")
        ids = []
        error = None
        try:
            used0 = host.used_mib()
            for _ in range(n):
                cid, _ = ctx.docker.run_detached(r, "busybox", ["sleep", "3600"])
                ids.append(cid)
            time.sleep(idle)
            table = host.process_table()
            ms = []
            for cid in ids:
                if not ctx.docker.running(cid):
                    raise RuntimeError(f"container {cid[:12]} is not running")
                ms.append(measure_container(cid, r.kind, table))
            used1 = host.used_mib()
            for m in ms:
                m["host_used_delta_mib"] = (used1 - used0) / n
        except (CommandError, RuntimeError) as e:
            error = str(e)
            ms = []
        finally:
            ctx.docker.remove(ids)
        s = _summarise(r, ms, error)
        s["containers"] = n
        s["host_used_delta_total_mib"] = (used1 - used0) if ms else None
        result[r.name] = s
    return result


def _summarise(r, ms, error):
    categories = []
    for m in ms:
        for c in m["by_category_kib"]:
            if c not in categories:
                categories.append(c)
    out = {
        "runtime": r.kind,
        "error": error,
        "n": len(ms),
        "pss_mib": summary([_mib(m["pss_kib"]) for m in ms]),
        "pss_mean_mib": (sum(m["pss_kib"] for m in ms) / len(ms) / MIB) if ms else None,
        "by_category_mib": {c: summary([_mib(m["by_category_kib"].get(c, 0)) for m in ms]) for c in categories},
        "pss_kind_mib": {k: summary([_mib(m["totals_kib"][k]) for m in ms])
                         for k in ("Rss", "Pss_Anon", "Pss_File", "Pss_Shmem")},
        "host_used_delta_mib": summary([m.get("host_used_delta_mib") for m in ms]),
        "processes_example": ms[0]["processes"] if ms else [],
    }
    return out


DAEMONS = ("libvirtd", "virtlogd", "dockerd", "containerd")


def daemons():
    """PSS of the shared daemons (not charged to any container), for context."""
    table = host.process_table()
    out = {}
    for p in table.values():
        name = p.argv[0].rsplit("/", 1)[-1] if p.argv else p.comm
        if name in DAEMONS:
            v = host.smaps_rollup(p.pid)
            if v:
                out[name] = out.get(name, 0) + v["Pss"] / MIB
    return out

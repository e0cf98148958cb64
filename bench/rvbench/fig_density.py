"""Figure 3: density.

Per runtime: `docker run -d --runtime=R --network none busybox sleep 3600` one after another until
`limit` containers, the first failure, MemAvailable under the floor (2 GiB), or the time budget.
Records how many ran (and still run a few seconds after the last start), the host's used memory
(MemTotal - MemAvailable) before and after, and how long each start took; then removes them all."""

import time

from .common import CommandError, log, summary
from . import host


def density(ctx, runtimes, limit, floor_mib=2048, budget_s=1800, settle_s=5):
    result = {}
    for r in runtimes:
        log(f"density: {r.name}, up to {limit} containers")
        ids, starts = [], []
        reason = f"reached the limit of {limit}"
        used0, avail0 = host.used_mib(), host.available_mib()
        min_avail = avail0
        t_begin = time.monotonic()
        used1 = avail1 = None
        running = 0
        try:
            while len(ids) < limit:
                avail = host.available_mib()
                min_avail = min(min_avail, avail)
                if avail < floor_mib:
                    reason = f"stopped early: MemAvailable {avail:.0f} MiB < {floor_mib} MiB"
                    break
                if time.monotonic() - t_begin > budget_s:
                    reason = f"stopped early: time budget of {budget_s} s used up"
                    break
                try:
                    cid, seconds = ctx.docker.run_detached(r, "busybox", ["sleep", "3600"])
                except CommandError as e:
                    reason = f"start {len(ids) + 1} failed: {e}"
                    break
                ids.append(cid)
                starts.append(seconds)
                if len(ids) % 10 == 0:
                    log(f"  {len(ids)} running, last start {seconds:.2f} s, MemAvailable {avail:.0f} MiB")
            time.sleep(settle_s)
            running = sum(1 for cid in ids if ctx.docker.running(cid))
            used1, avail1 = host.used_mib(), host.available_mib()
            min_avail = min(min_avail, avail1)
        finally:
            t_rm = time.monotonic()
            ctx.docker.remove(ids, parallel=4)
            remove_s = time.monotonic() - t_rm
        log(f"  {r.name}: {len(ids)} started, {running} running; {reason}")
        result[r.name] = {
            "runtime": r.kind,
            "started": len(ids),
            "running_at_end": running,
            "stop_reason": reason,
            "host_used_before_mib": used0,
            "host_used_after_mib": used1,
            "host_used_delta_mib": None if used1 is None else used1 - used0,
            "per_container_mib": (used1 - used0) / len(ids) if ids and used1 is not None else None,
            "min_available_mib": min_avail,
            "start_s": summary(starts),
            "start_first_s": starts[0] if starts else None,
            "start_last_s": starts[-1] if starts else None,
            "start_samples": starts,
            "remove_all_s": remove_s,
            "duration_s": time.monotonic() - t_begin,
        }
        # Let the host give the memory back before the next runtime starts.
        time.sleep(settle_s)
    return result

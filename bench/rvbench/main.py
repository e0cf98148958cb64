"""The benchmark's entry point: settings, peers check, the figures, cleanup, the report."""

import argparse
import os
import shutil
import sys
import time
import traceback

from .common import CommandError, Retry, install_signal_handlers, log, output, run
from . import fig_density, fig_memory, fig_start, fig_work, host, report
from .docker import KINDS, Docker, Runtime, image_exists

FIGURES = ("start", "bundle", "memory", "density", "work")

PROFILES = {
    # rounds: measured rounds of the timed figures (after `warmup` rounds)
    "full": dict(rounds=15, warmup=1, memory_rounds=10, memory_containers=10, idle_s=5,
                 density_limit=100, density_kinds=("runc", "crun", "runsc", "runvirt"),
                 work_rounds=10, work_sizes={"read_mib": 100, "sha_mib": 64, "write_mib": 64, "cpu_iterations": 1000000},
                 bridge=True, retry_pause=60),
    "quick": dict(rounds=3, warmup=1, memory_rounds=3, memory_containers=3, idle_s=3,
                  density_limit=5, density_kinds=("runc", "runvirt"),
                  work_rounds=3, work_sizes={"read_mib": 16, "sha_mib": 8, "write_mib": 8, "cpu_iterations": 200000},
                  bridge=False, retry_pause=15),
}


class Context:
    def __init__(self, args, profile):
        self.run_id = f"{os.getpid()}"
        self.repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.runvirt = args.runvirt
        self.quick = args.quick
        for k, v in profile.items():
            setattr(self, k, v)
        self.docker = Docker(self.run_id)
        self.retry = Retry(attempts=2, pause=profile["retry_pause"])
        self._cleanups = []
        self._keyed = {}

    def on_cleanup(self, fn):
        self._cleanups.append(fn)

    def on_cleanup_key(self, key, fn):
        self._keyed[key] = fn

    def drop_cleanup_key(self, key):
        self._keyed.pop(key, None)

    def cleanup(self):
        for key, fn in list(self._keyed.items()):
            try:
                fn()
            except Exception as e:
                log(f"cleanup of {key} failed: {e}")
        self._keyed.clear()
        self.docker.cleanup()
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception as e:
                log(f"cleanup failed: {e}")
        self._cleanups.clear()


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench", description="runvirt's benchmark (see bench/README.md)")
    p.add_argument("--quick", action="store_true", help="smoke run: 3 rounds, 3 containers, density to 5")
    p.add_argument("--figures", default=",".join(FIGURES),
                   help=f"comma-separated subset of {','.join(FIGURES)}")
    p.add_argument("--rounds", type=int, help="measured rounds of the timed figures")
    p.add_argument("--memory-containers", type=int)
    p.add_argument("--density-limit", type=int)
    p.add_argument("--density-runtimes", help="comma-separated runtimes for the density figure")
    p.add_argument("--no-bridge", action="store_true", help="skip the +bridge start-latency rows")
    p.add_argument("--runvirt", default=shutil.which("runvirt") or "/usr/local/bin/runvirt")
    p.add_argument("--results-dir", help="default bench/results (quick: build/bench)")
    p.add_argument("--name", help="report file name without extension (default: the date)")
    return p.parse_args(argv)


def vm_domains():
    out = output(["virsh", "-c", "qemu:///system", "list", "--all", "--name"], default="")
    return {d for d in out.split() if d}


def check_peers(ctx):
    peers = {}
    for kind in KINDS:
        r = Runtime(kind)
        try:
            _, seconds = ctx.retry(f"peer check {kind}", lambda: ctx.docker.run_rm(r, "busybox", ["true"])) \
                if kind == "runvirt" else ctx.docker.run_rm(r, "busybox", ["true"])
            peers[kind] = {"ok": True, "seconds": seconds, "error": None}
        except (CommandError, RuntimeError) as e:
            peers[kind] = {"ok": False, "seconds": None, "error": _docker_error(str(e))}
        log(f"peer {kind}: {'runs' if peers[kind]['ok'] else 'cannot run: ' + peers[kind]['error']}")
    return peers


def _docker_error(msg):
    # "docker run ...: exit 125: docker: Error response from daemon: ...: <the runtime's words>: unknown."
    return msg.split(": exit ", 1)[-1]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    profile = dict(PROFILES["quick" if args.quick else "full"])
    if args.rounds:
        profile.update(rounds=args.rounds, work_rounds=args.rounds, memory_rounds=args.rounds)
    if args.memory_containers:
        profile["memory_containers"] = args.memory_containers
    if args.density_limit:
        profile["density_limit"] = args.density_limit
    if args.density_runtimes:
        profile["density_kinds"] = tuple(args.density_runtimes.split(","))
    if args.no_bridge:
        profile["bridge"] = False
    figures = [f for f in args.figures.split(",") if f]
    unknown = [f for f in figures if f not in FIGURES]
    if unknown:
        sys.exit(f"bench: unknown figure(s) {', '.join(unknown)}")
    if os.geteuid() != 0:
        sys.exit("bench: run as root (Docker, libvirt, /proc/PID/smaps_rollup of other users)")

    install_signal_handlers()
    ctx = Context(args, profile)
    date = time.strftime("%Y-%m-%d")
    results_dir = args.results_dir or os.path.join(ctx.repo, "build/bench" if args.quick else "bench/results")
    name = args.name or _free_name(results_dir, date + ("-quick" if args.quick else ""))
    started = time.time()
    results = {
        "schema": 1,
        "date": date,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "make bench-quick" if args.quick else "make bench",
        "argv": sys.argv,
        "config": {
            "quick": args.quick, "figures": figures, "rounds": ctx.rounds, "warmup": ctx.warmup,
            "memory_rounds": ctx.memory_rounds, "memory_containers": ctx.memory_containers, "idle_s": ctx.idle_s,
            "density_limit": ctx.density_limit, "density_floor_mib": 2048,
            "density_budget_s": 1800 if not args.quick else 300, "work_rounds": ctx.work_rounds,
            "work_sizes": ctx.work_sizes,
        },
        "figures": {},
        "figure_errors": {},
        "notes": [],
        "machine": host.machine(),
        "accelerator": {"accelerator": "unknown", "reason": ""},
        "versions": {"runvirt_binary": {}},
        "peers": {},
    }
    domains_before = vm_domains()
    try:
        log(f"bench: {'quick' if args.quick else 'full'} run {ctx.run_id}; figures {', '.join(figures)}; "
            f"report {os.path.join(results_dir, name)}.md")
        env = host.runvirt_env(ctx.runvirt)
        results["accelerator"] = {"accelerator": env.get("host", {}).get("accelerator", "unknown"),
                                  "reason": env.get("host", {}).get("accelerator_reason", "")}
        results["versions"] = host.versions(ctx.runvirt, env)
        check_out, check_err, _ = run([ctx.runvirt, "check"], check=False, timeout=120)
        results["runvirt_check"] = (check_out + check_err).strip().splitlines()
        if not image_exists("busybox"):
            run(["bash", os.path.join(ctx.repo, "scripts", "make-docker-images.sh")])
        ctx.docker.cleanup(everything=True)  # leftovers of an interrupted earlier run
        results["peers"] = check_peers(ctx)
        kinds = [k for k in KINDS if results["peers"][k]["ok"]]
        if "runc" not in kinds:
            raise RuntimeError("runc does not run: every figure is a ratio to it")
        runtimes = [Runtime(k) for k in kinds]
        results["figures"]["daemons_mib"] = fig_memory.daemons()

        def figure(key, fn):
            t0 = time.monotonic()
            try:
                fn()
            except Exception as e:  # one broken figure must not lose the others
                results["figure_errors"][key] = f"{type(e).__name__}: {e}"
                log(f"figure {key} failed: {e}")
                traceback.print_exc()
            results.setdefault("figure_seconds", {})[key] = time.monotonic() - t0

        if "start" in figures:
            start_rts = list(runtimes)
            if ctx.bridge:
                start_rts += [Runtime(k, "bridge") for k in ("runc", "runvirt") if k in kinds]
            figure("start", lambda: results["figures"].__setitem__("start_docker", fig_start.docker_start(ctx, start_rts)))
        if "bundle" in figures:
            def bundle():
                b, ph = fig_start.bundle_start(ctx, [k for k in KINDS])
                results["figures"]["start_bundle"] = b
                results["figures"]["phases"] = ph
            figure("bundle", bundle)
        if "memory" in figures:
            figure("memory_1", lambda: results["figures"].__setitem__(
                "memory_1", fig_memory.one_container(ctx, runtimes, ctx.memory_rounds, ctx.idle_s)))
            figure("memory_n", lambda: results["figures"].__setitem__(
                "memory_n", fig_memory.many_containers(ctx, runtimes, ctx.memory_containers, ctx.idle_s)))
        if "work" in figures:
            def work():
                results["work_image"] = fig_work.image_name()
                results["figures"]["work"] = fig_work.work(ctx, runtimes, ctx.work_sizes)
            figure("work", work)
        if "density" in figures:
            dens = [Runtime(k) for k in ctx.density_kinds if k in kinds]
            figure("density", lambda: results["figures"].__setitem__(
                "density", fig_density.density(ctx, dens, ctx.density_limit,
                                               budget_s=results["config"]["density_budget_s"])))
    except KeyboardInterrupt as e:
        results["notes"].append(f"interrupted ({e or 'Ctrl-C'}): the figures are incomplete")
        log("bench: interrupted; cleaning up")
    finally:
        ctx.cleanup()
        results["cleanup"] = leak_check(ctx, domains_before)
        log(f"bench: {results['cleanup']}")
    results["loadavg_at_end"] = host.loadavg()
    results["duration_s"] = time.time() - started
    results["failures"] = ctx.retry.failures
    results["notes"] += standing_notes(results)
    base = report.write(results, results_dir, name)
    log(f"bench: wrote {base}.md, {base}.json, {base}.png ({results['duration_s'] / 60:.1f} min)")
    print_summary(results)
    return 1 if results["figure_errors"] or any("interrupted" in n for n in results["notes"]) else 0


def _free_name(directory, stem):
    name, i = stem, 2
    while os.path.exists(os.path.join(directory, name + ".json")):
        name = f"{stem}-{i}"
        i += 1
    return name


def leak_check(ctx, domains_before):
    """What the run may have left: labelled containers, new libvirt domains, bench mounts."""
    problems = []
    try:
        left = ctx.docker.labelled(ctx.run_id)
        if left:
            problems.append(f"{len(left)} container(s) left: {' '.join(left)}")
    except CommandError as e:
        problems.append(f"docker ps failed: {e}")
    # Domains go away a moment after their containers.
    for _ in range(20):
        new = vm_domains() - domains_before
        if not new:
            break
        time.sleep(1)
    if new:
        problems.append(f"libvirt domains that were not there at the start: {' '.join(sorted(new))} "
                        f"(possibly not the bench's: runvirt may be in use in parallel)")
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if "rvbench" in line]
    if mounts:
        problems.append(f"mounts left: {' '.join(mounts)}")
    return "no container, VM or mount left behind" if not problems else "; ".join(problems)


def standing_notes(results):
    notes = [
        "`--network none` everywhere except the `+bridge` rows: runsc here needs `--network=none` "
        "(registered as its runtimeArg), and the same for all keeps the figures comparable.",
        f"Accelerator: {results.get('accelerator', {}).get('accelerator')} — under TCG every guest instruction "
        "is translated, so runvirt's CPU-bound and boot figures are far from what KVM would give.",
        "The machine is shared (2 cores): other work running at the same time shows in absolute times; the load "
        "average at the start and the end is in the machine table.",
    ]
    peers = results.get("peers", {})
    for kind, p in peers.items():
        if not p["ok"]:
            notes.append(f"{kind} cannot run here ({p['error']}); it is in no figure.")
    return notes


def print_summary(results):
    figs = results["figures"]
    print("\n==== summary ====")
    for key, title in (("start_docker", "docker run --rm busybox true"), ("start_bundle", "run --bundle true")):
        if figs.get(key):
            print(title + ":")
            for n, s in figs[key].items():
                sm = s.get("summary")
                print(f"  {n:16s} " + (f"median {sm['median']:.3f} s  (min {sm['min']:.3f}, max {sm['max']:.3f}, n {sm['n']})"
                                       if sm else f"error: {s.get('error')}"))
    if figs.get("phases", {}).get("issue"):
        print("runvirt phases (median s):")
        for row in figs["phases"]["issue"]:
            if row["summary"]:
                print(f"  {row['phase']:32s} {row['summary']['median']:.3f}")
    for key, title in (("memory_1", "PSS, 1 container (MiB)"), ("memory_n", "PSS per container, N at once (MiB)")):
        if figs.get(key):
            print(title + ":")
            for n, s in figs[key].items():
                v = s["pss_mib"]["median"] if key == "memory_1" and s.get("pss_mib") else s.get("pss_mean_mib")
                cats = ", ".join(f"{c} {(x or {}).get('median', 0):.1f}" for c, x in s.get("by_category_mib", {}).items())
                print(f"  {n:16s} " + (f"{v:.1f}  ({cats})" if v is not None else f"error: {s.get('error')}"))
    if figs.get("density"):
        print("density:")
        for n, s in figs["density"].items():
            per = s["per_container_mib"]
            print(f"  {n:16s} {s['started']} started, {s['running_at_end']} running; "
                  f"{'' if per is None else f'{per:.0f} MiB/container; '}{s['stop_reason']}")
    if figs.get("work"):
        print("work inside (median s, ratio to runc):")
        runc = figs["work"].get("runc", {}).get("summary", {})
        for n, s in figs["work"].items():
            parts = []
            for j in ("read", "sha256", "find", "write", "cpu"):
                js = s.get("summary", {}).get(j)
                if js:
                    r = js["median"] / runc[j]["median"] if runc.get(j) else None
                    parts.append(f"{j} {js['median']:.3f}" + (f" ({r:.1f}×)" if r and n != "runc" else ""))
            print(f"  {n:16s} " + (", ".join(parts) if parts else f"error: {s.get('error')}"))
    if results["figure_errors"]:
        print("figure errors:", results["figure_errors"])
    print("cleanup:", results.get("cleanup"))

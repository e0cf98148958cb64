"""The report: <name>.json (everything, plus flat `metrics` for bench/compare), <name>.md, <name>.png."""

import json
import os

from .common import fmt_mib, fmt_ratio, fmt_s, ratio

# ---------------------------------------------------------------------------------------------
# Flat metrics: what bench/compare compares between two runs.


def metrics(results):
    m = {}

    def put(key, value, unit, better="lower"):
        if value is not None:
            m[key] = {"value": value, "unit": unit, "better": better}

    figs = results.get("figures", {})
    start = figs.get("start_docker") or {}
    runc = _med(start.get("runc", {}).get("summary"))
    for name, r in start.items():
        put(f"start.docker.{name}.median_s", _med(r.get("summary")), "s")
        if name != "runc":
            put(f"start.docker.{name}.ratio_to_runc", ratio(_med(r.get("summary")), runc), "×")
    bundle = figs.get("start_bundle") or {}
    runc_b = _med(bundle.get("runc", {}).get("summary"))
    for name, r in bundle.items():
        put(f"start.bundle.{name}.median_s", _med(r.get("summary")), "s")
        if name != "runc":
            put(f"start.bundle.{name}.ratio_to_runc", ratio(_med(r.get("summary")), runc_b), "×")
    for row in (figs.get("phases") or {}).get("issue", []):
        put(f"phase.{row['phase'].strip()}.median_s", _med(row.get("summary")), "s")
    for key, label in (("memory_1", "1"), ("memory_n", "n")):
        for name, r in (figs.get(key) or {}).items():
            value = _med(r.get("pss_mib")) if label == "1" else r.get("pss_mean_mib")
            put(f"memory.{label}.{name}.pss_mib", value, "MiB")
            if r.get("runtime") == "runvirt":
                for cat, s in r.get("by_category_mib", {}).items():
                    put(f"memory.{label}.{name}.{cat}_mib", _med(s), "MiB")
    for name, r in (figs.get("density") or {}).items():
        put(f"density.{name}.started", r.get("started"), "containers", "higher")
        put(f"density.{name}.per_container_mib", r.get("per_container_mib"), "MiB")
        put(f"density.{name}.start_median_s", _med(r.get("start_s")), "s")
    work = figs.get("work") or {}
    runc_w = (work.get("runc") or {}).get("summary", {})
    for name, r in work.items():
        for job in ("read", "sha256", "find", "write", "cpu"):
            v = _med(r.get("summary", {}).get(job))
            put(f"work.{job}.{name}.median_s", v, "s")
            if name != "runc":
                put(f"work.{job}.{name}.ratio_to_runc", ratio(v, _med(runc_w.get(job))), "×")
    return m


def _med(s):
    return s.get("median") if s else None


# ---------------------------------------------------------------------------------------------
# Markdown

def _err(e):
    """An error cell: the runtime's words, without the command line in front."""
    if not e:
        return None
    return e.split(": exit ", 1)[-1].replace("|", "\\|")


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join("—" if c is None else str(c) for c in row) + " |")
    return "\n".join(lines)


def _sec_row(s, digits=3):
    if not s:
        return [None, None, None, None]
    return [fmt_s(s["median"], digits), fmt_s(s["min"], digits), fmt_s(s["max"], digits), s["n"]]


def markdown(results, chart_name):
    r = results
    cfg = r["config"]
    figs = r.get("figures", {})
    out = []
    add = out.append
    add(f"# runvirt benchmark — {r['date']}{' (quick smoke run)' if cfg['quick'] else ''}\n")
    add(f"`{r['command']}`, started {r['started']}, took {r['duration_s'] / 60:.1f} min. "
        f"Every runtime ran with `--network none` unless its name says `+bridge` (runsc here needs "
        f"`--network=none`; giving it to all keeps them comparable). Each time is the median of "
        f"{cfg['rounds']} measured rounds after {cfg['warmup']} warm-up round(s), runtimes interleaved "
        f"(A B C A B C …), with min and max; ratios are medians over runc's (absolute times drift on this "
        f"shared machine; ratios are the point).\n")
    add(f"![start latency, memory, work ratios]({chart_name})\n")

    # Machine and versions
    mach = r["machine"]
    add("## Machine and versions\n")
    v = r["versions"]
    rows = [
        ["CPU", f"{mach['cpu_model']}, {mach['cores']} cores"],
        ["memory", f"{mach['memory_mib']} MiB"],
        ["host", f"{mach.get('os')}, kernel {mach['host_kernel']}"],
        ["accelerator", f"**{r['accelerator']['accelerator']}** ({r['accelerator']['reason']})"],
        ["load average", f"{mach['loadavg_at_start']} at start, {r.get('loadavg_at_end')} at end"],
        ["runvirt", f"{v.get('runvirt')}, {v['runvirt_binary'].get('path')} "
                    f"(sha256 {v['runvirt_binary'].get('sha256')}…, {v['runvirt_binary'].get('mtime')})"],
        ["guest kernel", v.get("guest_kernel")],
        ["QEMU / virtiofsd", f"{v.get('qemu')} / {v.get('virtiofsd')}"],
        ["libvirt", v.get("libvirt")],
        ["Docker", f"{v.get('docker')}; {v.get('containerd')}"],
        ["runc", v.get("runc")], ["crun", v.get("crun")], ["runsc", v.get("runsc")],
        ["python", v.get("python")],
    ]
    add(_table(["", ""], rows) + "\n")

    # Peers
    add("## Peers\n")
    rows = []
    for kind, p in r["peers"].items():
        rows.append([kind, "runs" if p["ok"] else "**cannot run here**",
                     f"{p['seconds']:.2f} s" if p.get("seconds") else None, _err(p.get("error"))])
    add(_table(["runtime", "status", "check", "error"], rows))
    add("\nCheck: `docker run --rm --runtime=R --network none busybox true`. A runtime that cannot run is "
        "left out of the figures below.\n")

    # 1. Start latency
    add("## 1. Start latency\n")
    start = figs.get("start_docker")
    if start:
        add("### 1a. `docker run --rm --runtime=R --network none busybox true` (wall time of the docker command, s)\n")
        runc = _med(start.get("runc", {}).get("summary"))
        runsc = _med(start.get("runsc", {}).get("summary"))
        rows = []
        for name, s in start.items():
            med = _med(s.get("summary"))
            rows.append([name] + _sec_row(s.get("summary")) +
                        [fmt_ratio(ratio(med, runc)), fmt_ratio(ratio(med, runsc)) if name.startswith("runvirt") else None,
                         _err(s.get("error"))])
        add(_table(["runtime", "median", "min", "max", "n", "÷ runc", "÷ runsc", "error"], rows) + "\n")
    bundle = figs.get("start_bundle")
    if bundle:
        add("### 1b. `R run --bundle` of a busybox bundle running `true`, without Docker (s)\n")
        runc = _med(bundle.get("runc", {}).get("summary"))
        rows = []
        for name, s in bundle.items():
            rows.append([name] + _sec_row(s.get("summary")) + [fmt_ratio(ratio(_med(s.get("summary")), runc)), _err(s.get("error"))])
        add(_table(["runtime", "median", "min", "max", "n", "÷ runc", "error"], rows))
        add("\nSame bundle for all (read-only root, new pid/net/ipc/uts/mount namespaces); each runtime with "
            "its own `--root`; runvirt with `--debug --log`; runsc with `--network=none`.\n")
    ph = figs.get("phases")
    if ph and ph.get("runs"):
        add(f"### 1c. runvirt's phases (from `runvirt --debug --log` of the {len(ph['runs'])} runs of 1b, s)\n")
        rows = [[row["phase"]] + _sec_row(row["summary"]) + [row["note"]] for row in ph["issue"]]
        add(_table(["phase", "median", "min", "max", "n", "source / note"], rows) + "\n")
        add("Every timing in the log, as logged:\n")
        rows = [[k] + _sec_row(s) for k, s in ph["raw"].items() if k not in ("wall", "unaccounted")]
        add(_table(["log label", "median", "min", "max", "n"], rows) + "\n")
        missing = [row["phase"] for row in ph["issue"] if not row["logged"] and row["summary"] is None]
        if missing:
            add("Phases of the issue without a log line: " + ", ".join(missing) +
                " (see the notes above; “firmware” is derived, not logged).\n")

    # 2. Memory
    m1, mn = figs.get("memory_1"), figs.get("memory_n")
    if m1 or mn:
        add("## 2. Memory per container (PSS, MiB)\n")
        add("Sum of `Pss:` from `/proc/PID/smaps_rollup` over the host processes a container costs, "
            f"measured after {cfg['idle_s']} s idle (`sleep 3600` inside): its containerd-shim and the shim's "
            "descendants (runc/crun: the container's processes; runsc: sandbox and gofer; runvirt: the monitor), "
            "and for runvirt also the QEMU running its domain and the virtiofsd serving its share (children of "
            "libvirtd), found through `domainName`/`vmDir` in its state.json. Shared daemons (dockerd, containerd, "
            "libvirtd, virtlogd) are not charged; their PSS is below. “host Δ” (2b) is the change of MemTotal − "
            "MemAvailable over the N containers, divided by N (kernel memory and page cache included; noisy: "
            "anything else running on the host shows in it).\n")
    if m1:
        add(f"### 2a. One container (median of {cfg['memory_rounds']} rounds)\n")
        runc = _med(m1.get("runc", {}).get("pss_mib"))
        rows = []
        for name, s in m1.items():
            p = s.get("pss_mib")
            rows.append([name, fmt_mib(_med(p)), fmt_mib(p and p["min"]), fmt_mib(p and p["max"]),
                         fmt_ratio(ratio(_med(p), runc)), _cats(s), fmt_mib(_med(s["pss_kind_mib"].get("Pss_Anon"))),
                         fmt_mib(_med(s["pss_kind_mib"].get("Pss_File"))), fmt_mib(_med(s["pss_kind_mib"].get("Pss_Shmem"))),
                         _err(s.get("error"))])
        add(_table(["runtime", "PSS", "min", "max", "÷ runc", "by process", "anon", "file", "shmem", "error"], rows) + "\n")
    if mn:
        n = cfg["memory_containers"]
        add(f"### 2b. {n} idle containers at once (per container)\n")
        runc = (mn.get("runc") or {}).get("pss_mean_mib")
        rows = []
        for name, s in mn.items():
            p = s.get("pss_mib")
            rows.append([name, fmt_mib(s.get("pss_mean_mib")), fmt_mib(p and p["min"]), fmt_mib(p and p["max"]),
                         fmt_ratio(ratio(s.get("pss_mean_mib"), runc)), _cats(s),
                         fmt_mib((s.get("host_used_delta_total_mib") or 0) / n if s.get("host_used_delta_total_mib") else None),
                         _err(s.get("error"))])
        add(_table(["runtime", "PSS mean", "min", "max", "÷ runc", "by process (median)", "host Δ", "error"], rows) + "\n")
    if figs.get("daemons_mib"):
        add("Shared daemons (PSS, MiB, at the start): " +
            ", ".join(f"{k} {v:.1f}" for k, v in sorted(figs["daemons_mib"].items())) + "\n")
    ex = (m1 or {}).get("runvirt", {}).get("processes_example")
    if ex:
        add("One runvirt container's processes (first measured round, KiB):\n")
        rows = [[p["category"], p["name"], p["pid"], p["Pss"], p.get("Pss_Anon"), p.get("Pss_File"),
                 p.get("Pss_Shmem"), p.get("Rss")] for p in ex]
        add(_table(["part", "process", "pid", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem", "Rss"], rows) + "\n")

    # 3. Density
    d = figs.get("density")
    if d:
        add("## 3. Density\n")
        add(f"`docker run -d --runtime=R --network none busybox sleep 3600` one after another until "
            f"{cfg['density_limit']}, the first failure, MemAvailable under {cfg['density_floor_mib']} MiB or "
            f"{cfg['density_budget_s']} s; host used = MemTotal − MemAvailable.\n")
        rows = []
        for name, s in d.items():
            st = s.get("start_s")
            rows.append([name, s["started"], s["running_at_end"], s["stop_reason"],
                         fmt_mib(s["host_used_before_mib"], 0), fmt_mib(s["host_used_after_mib"], 0),
                         fmt_mib(s["per_container_mib"]), fmt_s(s.get("start_first_s"), 2),
                         fmt_s(_med(st), 2), fmt_s(s.get("start_last_s"), 2), f"{s['remove_all_s']:.0f}"])
        add(_table(["runtime", "started", "running at end", "stopped because", "used before (MiB)",
                    "used after (MiB)", "MiB / container", "1st start (s)", "median start", "last start",
                    "remove all (s)"], rows) + "\n")

    # 4. Work
    w = figs.get("work")
    if w:
        sz = cfg["work_sizes"]
        add("## 4. Work inside (s, in the container; ratio to runc)\n")
        add(f"Image `{r.get('work_image')}`: busybox + `/data/big.bin` (100 MiB of random bytes) + "
            f"`/data/tree` (4096 small files). A fresh container per runtime and round (cold guest caches; the "
            f"host page cache is warm for all after the warm-up), `--shm-size={sz['sha_mib'] + 32}m`; each job "
            f"timed inside with busybox `ts %.s` (runvirt: the guest's clock), minus the cost of one timestamp "
            f"measured in the same container (`timer` row). {cfg['work_rounds']} rounds.\n")
        add(_table(["job", "command"], [
            ["read", f"`dd if=/data/big.bin of=/dev/null bs=1M count={sz['read_mib']}` (first read in the container)"],
            ["sha256", f"`sha256sum /dev/shm/x` of {sz['sha_mib']} MiB of big.bin (copied to the tmpfs first, untimed)"],
            ["find", "`find / -xdev \\| wc -l` (metadata walk of the rootfs, every entry lstat'ed)"],
            ["write", f"`dd if=/dev/zero of=/vol/out bs=1M count={sz['write_mib']} conv=fsync` to a `-v` host "
                      f"directory under /var/tmp"],
            ["cpu", f"`awk 'BEGIN {{for (i = 0; i < {sz.get('cpu_iterations')}; i++) s += i * i}}'`: pure "
                    f"computation without system calls (not in the issue; separates TCG's cost from I/O)"],
        ]) + "\n")
        runc = (w.get("runc") or {}).get("summary", {})
        runsc = (w.get("runsc") or {}).get("summary", {})
        rows = []
        for job in ("read", "sha256", "find", "write", "cpu", "timer", "container"):
            row = [job]
            for name, s in w.items():
                js = s.get("summary", {}).get(job)
                med = _med(js)
                cell = "—" if not js else f"{fmt_s(med)} ({fmt_s(js['min'])}–{fmt_s(js['max'])})"
                if name != "runc" and med is not None and job not in ("timer",):
                    cell += f" **{fmt_ratio(ratio(med, _med(runc.get(job))))}**"
                row.append(cell)
            vr = _med(w.get("runvirt", {}).get("summary", {}).get(job))
            row.append(fmt_ratio(ratio(vr, _med(runsc.get(job)))))
            rows.append(row)
        add(_table(["job"] + list(w.keys()) + ["runvirt ÷ runsc"], rows))
        add("\n`timer` is the cost of one timestamp (not subtracted); `container` is the host-side wall time "
            "of the whole `docker run` (start + jobs + removal). Entries seen by find: " +
            ", ".join(f"{k} {s.get('find_entries')}" for k, s in w.items()) + ".\n")
        errs = [f"{k}: {_err(s['error'])}" for k, s in w.items() if s.get("error")]
        if errs:
            add("Errors: " + "; ".join(errs) + "\n")

    # Notes
    add("## Notes\n")
    for note in r.get("notes", []):
        add(f"- {note}")
    if r.get("failures"):
        add(f"- {len(r['failures'])} measurement(s) failed and were retried once after a pause:")
        for what, err in r["failures"][:20]:
            add(f"  - {what}: {err}")
    for fig, err in (r.get("figure_errors") or {}).items():
        add(f"- figure {fig} did not complete: {err}")
    add(f"- Cleanup: {r.get('cleanup', 'not checked')}")
    add(f"\nMachine-readable results: `{os.path.basename(r['json_name'])}` (compare two runs with "
        f"`bench/compare OLD.json NEW.json`).\n")
    return "\n".join(out) + "\n"


def _cats(s):
    cats = s.get("by_category_mib") or {}
    return ", ".join(f"{c} {fmt_mib(_med(v))}" for c, v in sorted(cats.items(), key=lambda kv: -(_med(kv[1]) or 0)))


# ---------------------------------------------------------------------------------------------
# Chart

def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = results.get("figures", {})
    fig, axes = plt.subplots(2, 3, figsize=(18, 9.5))
    fig.suptitle(f"runvirt benchmark {results['date']} — {results['machine']['cpu_model']}, "
                 f"{results['machine']['cores']} cores, {results['accelerator']['accelerator']}", fontsize=11)

    def latency(ax, data, title):
        names = [n for n, s in data.items() if s.get("summary")]
        meds = [data[n]["summary"]["median"] for n in names]
        lo = [m - data[n]["summary"]["min"] for n, m in zip(names, meds)]
        hi = [data[n]["summary"]["max"] - m for n, m in zip(names, meds)]
        bars = ax.bar(names, meds, yerr=[lo, hi], capsize=4, color=[_color(n) for n in names])
        for b, m in zip(bars, meds):
            ax.annotate(f"{m:.2f}", (b.get_x() + b.get_width() / 2, m), ha="left", va="bottom", fontsize=8,
                        xytext=(6, 2), textcoords="offset points")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("seconds (median, min–max)")
        ax.tick_params(axis="x", labelsize=8)

    if figs.get("start_docker"):
        latency(axes[0][0], figs["start_docker"], "docker run --rm busybox true")
    if figs.get("start_bundle"):
        latency(axes[0][1], figs["start_bundle"], "run --bundle (no Docker), busybox true")

    ax = axes[1][0]
    m1, mn = figs.get("memory_1") or {}, figs.get("memory_n") or {}
    names = [n for n in (list(m1) or list(mn)) if (m1.get(n) or {}).get("pss_mib") or (mn.get(n) or {}).get("pss_mib")]
    cats = []
    for d in (m1, mn):
        for n in names:
            for c in (d.get(n) or {}).get("by_category_mib", {}):
                if c not in cats:
                    cats.append(c)
    x = list(range(len(names)))
    width = 0.38
    cmap = plt.get_cmap("tab10")
    for offset, d, label in ((-width / 2, m1, "1"), (width / 2, mn, str(results["config"]["memory_containers"]))):
        bottom = [0.0] * len(names)
        for ci, c in enumerate(cats):
            vals = [(_med(((d.get(n) or {}).get("by_category_mib") or {}).get(c)) or 0) for n in names]
            ax.bar([i + offset for i in x], vals, width, bottom=bottom, color=cmap(ci % 10),
                   label=c if label == "1" else None, hatch=None if label == "1" else "//", edgecolor="white")
            bottom = [b + v for b, v in zip(bottom, vals)]
        for i, b in enumerate(bottom):
            if b:
                ax.annotate(f"{b:.0f}\n×{label}", (i + offset, b), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylabel("PSS per container, MiB")
    ax.set_title(f"memory per idle container (left: 1 alone, hatched: mean of "
                 f"{results['config']['memory_containers']})", fontsize=10)
    if cats:
        ax.legend(fontsize=7)

    ax = axes[1][1]
    w = figs.get("work") or {}
    runc = (w.get("runc") or {}).get("summary", {})
    jobs = ["read", "sha256", "find", "write", "cpu"]
    peers = [n for n in w if n != "runc" and w[n].get("summary", {}).get("read")]
    if runc and peers:
        width = 0.8 / len(peers)
        for pi, n in enumerate(peers):
            vals = [ratio(_med(w[n]["summary"].get(j)), _med(runc.get(j))) or 0 for j in jobs]
            bars = ax.bar([i + (pi - (len(peers) - 1) / 2) * width for i in range(len(jobs))], vals, width,
                          label=n, color=_color(n))
            for b, v in zip(bars, vals):
                ax.annotate(f"{v:.1f}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=7)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(range(len(jobs)))
        ax.set_xticklabels(jobs)
        ax.set_ylabel("time ÷ runc (log scale; 1 = runc)")
        ax.legend(fontsize=8)
    ax.set_title("work inside the container, ratio to runc", fontsize=10)

    ax = axes[0][2]
    ph = (figs.get("phases") or {}).get("issue") or []
    rows = [(row["phase"].strip(), row["summary"]) for row in ph
            if row["summary"] and not row["phase"].startswith("  ") and not row["phase"].startswith("wall")]
    if rows:
        labels = [n for n, _ in rows][::-1]
        meds = [s["median"] for _, s in rows][::-1]
        lo = [s["median"] - s["min"] for _, s in rows][::-1]
        hi = [s["max"] - s["median"] for _, s in rows][::-1]
        ax.barh(labels, meds, xerr=[lo, hi], capsize=3, color=COLORS["runvirt"])
        for y, m in enumerate(meds):
            ax.annotate(f"{m:.3f}", (m, y), va="center", fontsize=7, xytext=(4, 0), textcoords="offset points")
        ax.tick_params(axis="y", labelsize=7)
        ax.set_xlabel("seconds (median, min–max)")
    ax.set_title("runvirt run: phases from its debug log", fontsize=10)

    ax = axes[1][2]
    d = figs.get("density") or {}
    if d:
        names = list(d)
        started = [d[n]["started"] for n in names]
        bars = ax.bar(names, started, color=[_color(n) for n in names])
        for b, n in zip(bars, names):
            per = d[n].get("per_container_mib")
            ax.annotate(f"{d[n]['started']}\n{'' if per is None else f'{per:.0f} MiB each'}",
                        (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=8)
        ax.set_ylabel("idle containers started")
        ax.set_ylim(0, max(started + [1]) * 1.25)
    ax.set_title(f"density (up to {results['config']['density_limit']}; host MiB per container)", fontsize=10)

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


COLORS = {"runc": "#4c72b0", "crun": "#55a868", "runsc": "#dd8452", "runvirt": "#c44e52"}


def _color(name):
    base = name.split("+")[0]
    return COLORS.get(base, "#8172b2") if "+" not in name else "#999999"


def write(results, directory, name):
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, name)
    results["json_name"] = base + ".json"
    results["metrics"] = metrics(results)
    with open(base + ".json", "w") as f:
        json.dump(results, f, indent=1, sort_keys=False)
    chart_ok = True
    try:
        chart(results, base + ".png")
    except Exception as e:  # the numbers matter more than the picture
        chart_ok = False
        results.setdefault("notes", []).append(f"chart failed: {e}")
    with open(base + ".md", "w") as f:
        f.write(markdown(results, name + ".png" if chart_ok else "(no chart)"))
    return base

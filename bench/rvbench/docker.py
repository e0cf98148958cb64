"""Runtimes under test, Docker commands, and the host processes each container costs."""

import glob
import json
import os
from concurrent.futures import ThreadPoolExecutor

from .common import LABEL, CommandError, log, run
from . import host


class Runtime:
    """A runtime as the figures see it: a Docker runtime name plus the network it gets.

    kind is the runtime family (runc, crun, runsc, runvirt): it decides how the container's host
    processes are found and named."""

    def __init__(self, kind, network="none"):
        self.kind = kind
        self.docker_runtime = kind
        self.network = network
        self.name = kind if network == "none" else f"{kind}+{network}"

    def __repr__(self):
        return self.name


# The peers in the order every figure interleaves them (A B C D A B C D ...).
KINDS = ("runc", "crun", "runsc", "runvirt")


class Docker:
    def __init__(self, run_id, timeout=300):
        self.run_id = run_id
        self.timeout = timeout
        self.serial = 0
        self.live = set()  # container names that may exist: removed by cleanup()

    def _name(self):
        self.serial += 1
        return f"rvbench-{self.run_id}-{self.serial}"

    def _base(self, runtime, name, extra):
        return (["docker", "run", "--name", name, "--label", f"{LABEL}={self.run_id}",
                 f"--runtime={runtime.docker_runtime}", f"--network={runtime.network}"] + list(extra))

    def run_rm(self, runtime, image, cmd, extra=()):
        """`docker run --rm`: (stdout, wall seconds of the whole command)."""
        name = self._name()
        self.live.add(name)
        try:
            out, _, seconds = run(self._base(runtime, name, ["--rm"] + list(extra)) + [image] + cmd,
                                  timeout=self.timeout)
        except BaseException:
            self.remove([name])
            raise
        self.live.discard(name)
        return out, seconds

    def run_detached(self, runtime, image, cmd, extra=()):
        """`docker run -d`: (container id, wall seconds until docker returned)."""
        name = self._name()
        self.live.add(name)
        try:
            out, _, seconds = run(self._base(runtime, name, ["-d"] + list(extra)) + [image] + cmd,
                                  timeout=self.timeout)
        except BaseException:
            self.remove([name])
            raise
        cid = out.strip().splitlines()[-1]
        self.live.discard(name)
        self.live.add(cid)
        return cid, seconds

    def remove(self, names, parallel=4):
        """docker rm -f, a few at a time; errors are ignored (a --rm container may be gone)."""
        names = list(names)
        if not names:
            return

        def rm(name):
            try:
                run(["docker", "rm", "-f", name], timeout=self.timeout)
            except CommandError:
                pass
            self.live.discard(name)

        with ThreadPoolExecutor(max_workers=parallel) as pool:
            list(pool.map(rm, names))

    def running(self, cid):
        try:
            out, _, _ = run(["docker", "inspect", "-f", "{{.State.Running}}", cid], timeout=60)
            return out.strip() == "true"
        except CommandError:
            return False

    def state_pid(self, cid):
        out, _, _ = run(["docker", "inspect", "-f", "{{.State.Pid}}", cid], timeout=60)
        return int(out.strip())

    def labelled(self, value=None):
        label = f"{LABEL}={value}" if value else LABEL
        out, _, _ = run(["docker", "ps", "-aq", "--filter", f"label={label}"], timeout=60)
        return out.split()

    def cleanup(self, everything=False):
        """Removes what this run started (everything=True: any bench run's leftovers)."""
        ids = set(self.live)
        try:
            ids |= set(self.labelled(None if everything else self.run_id))
        except CommandError as e:
            log(f"cleanup: docker ps failed: {e}")
        if ids:
            log(f"cleanup: removing {len(ids)} container(s)")
            self.remove(sorted(ids), parallel=6)
        self.live.clear()


def image_exists(image):
    try:
        run(["docker", "image", "inspect", image], timeout=60)
        return True
    except CommandError:
        return False


# ---------------------------------------------------------------------------------------------
# The host processes of one container

def runvirt_state(cid):
    """runvirt's state.json for a Docker container (Docker passes --root .../runtime-runc/moby)."""
    for path in [f"/run/docker/runtime-runc/moby/{cid}/state.json"] + \
            glob.glob(f"/run/docker/runtime-*/moby/{cid}/state.json"):
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            continue
    return None


def _basename(p):
    return os.path.basename(p.argv[0]) if p.argv else p.comm


def _own_category(p):
    name = _basename(p)
    if name.startswith("containerd-shim"):
        return "shim"
    if name.startswith("qemu-system"):
        return "qemu"
    if name == "virtiofsd":
        return "virtiofsd"
    if name == "runvirt":
        return "monitor"
    if name == "runsc-sandbox":
        return "sandbox"
    if name == "runsc-gofer":
        return "gofer"
    return None


def container_processes(cid, kind, table=None):
    """{pid: category} of every host process that container cid costs.

    All runtimes: its containerd-shim and the shim's descendants (runc/crun: the container's
    processes; runsc: sandbox and gofer; runvirt: the monitor). runvirt also: the QEMU that runs
    the domain named in its state.json and the virtiofsd serving <vmDir>/share and
    <vmDir>/volumes (children of libvirtd, not of the shim), with their descendants (each
    virtiofsd's sandboxed worker)."""
    table = table or host.process_table()
    shims = [p.pid for p in table.values()
             if p.argv and "containerd-shim" in _basename(p) and cid in p.argv]
    pids = host.descendants(table, shims)
    vm_roots = []
    if kind == "runvirt":
        state = runvirt_state(cid)
        if not state:
            raise RuntimeError(f"no runvirt state.json for container {cid[:12]}")
        guest = "guest=" + state["domainName"]
        shares = {"source=" + state["vmDir"].rstrip("/") + d for d in ("/share", "/volumes")}
        for p in table.values():
            args = p.argv
            if any(a == "-name" and i + 1 < len(args) and (args[i + 1] == guest or args[i + 1].startswith(guest + ","))
                   for i, a in enumerate(args)):
                vm_roots.append(p.pid)
            elif _basename(p) == "virtiofsd" and any(shares & set(a.split(",")) for a in args):
                vm_roots.append(p.pid)
        if not any(_own_category(table[p]) == "qemu" for p in vm_roots):
            raise RuntimeError(f"no QEMU process for domain {state['domainName']}")
        pids |= host.descendants(table, vm_roots)
    categories = {}

    def category(pid):
        if pid in categories:
            return categories[pid]
        p = table[pid]
        own = _own_category(p)
        if own is None:
            parent = categories.get(p.ppid) if p.ppid in pids else None
            if parent is None and p.ppid in pids:
                parent = category(p.ppid)
            own = parent if parent not in (None, "shim") else "container"
        categories[pid] = own
        return own

    for pid in sorted(pids):
        category(pid)
    return categories


def measure_container(cid, kind, table=None):
    """PSS of a container's host processes: total, per category and per process, in KiB."""
    table = table or host.process_table()
    procs = container_processes(cid, kind, table)
    total = {k: 0 for k in host.SMAPS_KEYS}
    by_category = {}
    processes = []
    for pid, cat in sorted(procs.items()):
        values = host.smaps_rollup(pid)
        if values is None:
            continue
        for k in host.SMAPS_KEYS:
            total[k] += values.get(k, 0)
        by_category[cat] = by_category.get(cat, 0) + values["Pss"]
        p = table.get(pid)
        processes.append({"pid": pid, "name": _basename(p) if p else "?", "category": cat, **values})
    return {"pss_kib": total["Pss"], "totals_kib": total, "by_category_kib": by_category, "processes": processes}

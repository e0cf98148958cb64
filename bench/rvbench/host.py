"""The host: memory, processes and their PSS, the machine and the versions of what runs on it."""

import hashlib
import json
import os
import platform
import shutil
import time

from .common import output


# ---------------------------------------------------------------------------------------------
# Memory

def meminfo():
    """/proc/meminfo in kB."""
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            info[key] = int(rest.split()[0])
    return info


def used_mib():
    """Host memory in use as `free` counts it for capacity: MemTotal - MemAvailable, in MiB."""
    m = meminfo()
    return (m["MemTotal"] - m["MemAvailable"]) / 1024


def available_mib():
    return meminfo()["MemAvailable"] / 1024


def drop_host_caches():
    """Not used by default: the figures keep the host's page cache warm for every runtime."""
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


# ---------------------------------------------------------------------------------------------
# Processes

class Proc:
    __slots__ = ("pid", "ppid", "comm", "argv")

    def __init__(self, pid, ppid, comm, argv):
        self.pid, self.ppid, self.comm, self.argv = pid, ppid, comm, argv

    def __repr__(self):
        return f"Proc({self.pid}, {self.comm})"


def process_table():
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue  # gone meanwhile
        # comm is in parentheses and may contain spaces: the fields after the last ')' are fixed.
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        procs[int(entry)] = Proc(int(entry), ppid, comm, argv)
    return procs


def descendants(table, roots):
    """roots and all their descendants (pids)."""
    children = {}
    for p in table.values():
        children.setdefault(p.ppid, []).append(p.pid)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in found or pid not in table:
            continue
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


SMAPS_KEYS = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem")


def smaps_rollup(pid):
    """{Rss, Pss, Pss_Anon, Pss_File, Pss_Shmem} of a process in kB, or None (gone, kernel thread)."""
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in SMAPS_KEYS:
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError):
        return None
    return values if "Pss" in values else None


# ---------------------------------------------------------------------------------------------
# Machine and versions

def _first_line(text):
    return text.strip().splitlines()[0] if text and text.strip() else None


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine():
    m = meminfo()
    return {
        "hostname": platform.node(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "memory_mib": round(m["MemTotal"] / 1024),
        "host_kernel": platform.release(),
        "os": _os_release(),
        "loadavg_at_start": loadavg(),
    }


def _os_release():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def runvirt_env(runvirt):
    text = output([runvirt, "env", "--json"])
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def versions(runvirt, env):
    v = env.get("versions", {})
    rv = env.get("runvirt", {})
    binary = shutil.which(runvirt) or runvirt
    try:
        st = os.stat(binary)
        binary_info = {"path": binary, "sha256": file_sha256(binary)[:16],
                       "mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.st_mtime))}
    except OSError:
        binary_info = {"path": binary}
    runsc = _first_line(output(["runsc", "--version"]))
    return {
        "runvirt": f"{rv.get('version', '?')} (commit {rv.get('commit', '?')})",
        "runvirt_binary": binary_info,
        "docker": output(["docker", "version", "--format", "{{.Server.Version}}"]),
        "containerd": _first_line(output(["containerd", "--version"])),
        "runc": _first_line(output(["runc", "--version"])),
        "crun": _first_line(output(["crun", "--version"])),
        "runsc": runsc,
        "qemu": v.get("qemu") or _first_line(output(["qemu-system-x86_64", "--version"])),
        "libvirt": v.get("libvirt") or _first_line(output(["virsh", "--version"])),
        "virtiofsd": v.get("virtiofsd"),
        "guest_kernel": v.get("guest_kernel"),
        "guest_initrd": v.get("guest_initrd"),
        "python": platform.python_version(),
    }

"""runvirt's phase timings, parsed from its debug log (text or JSON lines).

The log lines look like (libvirt-backend: monitor.cpp, vm_session.cpp, monitor_loop.cpp, runtime.cpp):
  phase network set-up (host side, before the VM): 0.000 s
  phases: setup 0.001 s, domain start 0.374 s, kernel boot (guest uptime at agent start) 1.570 s,
          agent ready 1.698 s after domain start (network attached in 0.000 s), guest network 0.000 s,
          container prepared 0.138 s; tcg, 1 vCPU, 512 MiB, guest kernel 6.1.0-56-cloud-amd64
  phase exec: workload started in 0.020 s
  phase teardown: destroy VM 0.207 s, unmount share 0.000 s, ...
The parser is generic (every "<label> <number> s" becomes a timing named after the line's group and
label), so new or renamed log lines show up in the figures without a change here; the table of the
issue's phases below maps the known labels and says which phases have no log line of their own.
"""

import json
import re

NUMBER_S = re.compile(r"(\d+(?:\.\d+)?) s\b")
TEXT_MSG = re.compile(r'msg="((?:[^"\\]|\\.)*)"')


def messages(path):
    """The msg of every log line (text format `msg="..."` or JSON `{"msg": ...}`)."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    out.append(str(json.loads(line).get("msg", "")))
                    continue
                except ValueError:
                    pass
            m = TEXT_MSG.search(line)
            if m:
                out.append(m.group(1).replace('\\"', '"'))
    return out


def _split_top_level(text):
    """Splits at ', ' and '; ' outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif c in ",;" and depth == 0 and text[i + 1:i + 2] == " ":
            parts.append(text[start:i])
            start = i + 2
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _label(text):
    text = text.strip()
    for suffix in (" in", ":"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
    return text


def parse_message(msg):
    """{name: seconds} of one phase message; {} when msg is not a phase line."""
    if not (msg.startswith("phase ") or msg.startswith("phases:")):
        return {}
    head, sep, body = msg.partition(": ")
    if not sep:
        return {}
    group = "" if head == "phases" else head[len("phase "):].strip()
    result = {}
    for segment in _split_top_level(body):
        # A nested "(label in N s)" is a timing of its own.
        for inner in re.finditer(r"\(([^()]*?)(\d+(?:\.\d+)?) s\)", segment):
            result[_key(group, _label(inner.group(1)))] = float(inner.group(2))
        outer = re.sub(r"\([^()]*\d+(?:\.\d+)? s\)", "", segment)
        m = NUMBER_S.search(outer)
        if not m:
            continue
        label = _label(outer[: m.start()]) or group
        result[_key(group, label)] = float(m.group(1))
    return result


def _key(group, label):
    if not group or label == group:
        return label
    return f"{group}: {label}"


def parse_log(path):
    """{phase name: seconds} of one run's log (later lines win on a repeated name)."""
    timings = {}
    for msg in messages(path):
        timings.update(parse_message(msg))
    return timings


# The issue's phases and where they are in the log. A phase with `keys` None has no line.
ISSUE_PHASES = [
    ("spec", None, "not logged: OCI spec loading and validation happen before the first timer "
                   "(in `create` and in the monitor) and land in “unaccounted”"),
    ("share set-up", None, "not logged on its own: prepareShare() (bind mounts into the share) is "
                           "inside “setup”, with the guest asset checks, the accelerator choice, "
                           "seccomp compilation and the domain plan"),
    ("setup (share set-up, plan)", ["setup"], "vm_session.cpp t0→t1"),
    ("host network set-up", ["network set-up (host side, before the VM)"], "monitor.cpp"),
    ("domain define/start", ["domain start"],
     "one virDomainCreateXML (transient: define + start in one call) + moving QEMU into the "
     "container's cgroups; define and start are not timed apart"),
    ("firmware (derived)", ["agent ready", "kernel boot (guest uptime at agent start)"],
     "derived: agent ready − guest uptime at agent start = QEMU start-up + firmware/PVH entry + "
     "the part of the agent's start before it reads its uptime; no log line of its own"),
    ("kernel boot", ["kernel boot (guest uptime at agent start)"],
     "guest /proc/uptime when the agent says hello: kernel start to agent start"),
    ("agent ready", ["agent ready"], "domain started → agent handshake (firmware + kernel + agent start)"),
    ("guest network", ["guest network"], "configure_network request"),
    ("container prepared", ["container prepared"], "CreateContainer request + sealing the share"),
    ("exec", ["exec: workload started"], "start → workload running"),
    ("teardown", ["teardown:*"], "sum of the teardown steps"),
    ("  destroy VM", ["teardown: destroy VM"], "virDomainDestroy (waits for QEMU to be reaped)"),
]


def issue_phase(timings, keys):
    """The value of one ISSUE_PHASES row for one run (None when a key is missing)."""
    if keys is None:
        return None
    if keys == ["teardown:*"]:
        parts = [v for k, v in timings.items() if k.startswith("teardown: ")]
        return sum(parts) if parts else None
    if len(keys) == 2 and keys[0] == "agent ready":
        a, b = timings.get(keys[0]), timings.get(keys[1])
        return None if a is None or b is None else a - b
    return timings.get(keys[0])


# What the wall time of `runvirt run` is made of, in the order it happens: the sum of these is
# subtracted from the wall time to give "unaccounted" (CLI start, spec loading, fork of the monitor,
# waiting for the workload to exit, libvirt connections, process exit).
ACCOUNTED = ["network set-up (host side, before the VM)", "setup", "domain start", "agent ready",
             "guest network", "container prepared", "exec: workload started", "teardown:*"]


def accounted(timings):
    total = 0.0
    for key in ACCOUNTED:
        v = issue_phase(timings, [key])
        total += v or 0.0
    return total

"""Figure 4: work inside the container, as a ratio to runc.

A bench image (busybox rootfs + /data/big.bin of random bytes + /data/tree of small files) runs one
fresh container per runtime and round (so the guest's caches are cold: a new VM for runvirt; the
host's page cache is warm for every runtime after the warm-up round). Inside, each job is timed
with busybox `ts %.s` (microsecond wall clock of the container; for runvirt the guest's clock):
  read     dd if=/data/big.bin of=/dev/null bs=1M count=READ    (first read in this container)
  sha256   sha256sum /dev/shm/x     (SHA MiB of big.bin copied to /dev/shm first, untimed)
  find     find / -xdev | wc -l     (metadata walk of the rootfs: ~4450 entries, each lstat'ed)
  write    dd if=/dev/zero of=/vol/out bs=1M count=WRITE conv=fsync   (a -v host directory)
  cpu      awk 'BEGIN {for (i = 0; i < N; i++) s += i * i}'   (pure computation, no system calls;
           not asked for by the issue: it separates TCG's translation cost from I/O costs)
Two timestamps with nothing between them measure the timer's own cost (a fork of `ts`), which is
subtracted from every job of the same container (the raw times are kept in the JSON)."""

import os
import shutil
import subprocess
import tempfile

from .common import CommandError, interleaved_rounds, log, run, summary
from .docker import image_exists

IMAGE_VERSION = 1
TREE_DIRS, TREE_FILES, TREE_FILE_BYTES = 64, 64, 512
BIG_MIB = 100
JOBS = ("read", "sha256", "find", "write", "cpu")


def image_name():
    return f"rvbench-work:{IMAGE_VERSION}"


def build_image(ctx):
    image = image_name()
    if image_exists(image):
        return image
    log(f"work: building {image} (busybox + {BIG_MIB} MiB file + {TREE_DIRS * TREE_FILES} small files)")
    rootfs = tempfile.mkdtemp(prefix="rvbench-image-", dir="/var/tmp")
    try:
        run(["bash", os.path.join(ctx.repo, "scripts", "make-busybox-rootfs.sh"), rootfs])
        data = os.path.join(rootfs, "data")
        os.makedirs(data)
        with open(os.path.join(data, "big.bin"), "wb") as f:
            for _ in range(BIG_MIB):
                f.write(os.urandom(1 << 20))
        for d in range(TREE_DIRS):
            sub = os.path.join(data, "tree", f"d{d:02d}")
            os.makedirs(sub)
            for i in range(TREE_FILES):
                with open(os.path.join(sub, f"f{i:03d}"), "wb") as f:
                    f.write(os.urandom(TREE_FILE_BYTES))
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(["docker", "import", "-c", 'CMD ["sh"]', "-", image], stdin=tar.stdout,
                             capture_output=True, text=True)
        tar.stdout.close()
        tar.wait()
        if imp.returncode != 0 or tar.returncode != 0:
            raise RuntimeError(f"docker import failed: {imp.stderr.strip()}")
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return image


def script(sizes):
    return f"""
now() {{ echo | ts %.s; }}
t0=$(now); t1=$(now); echo "timer $t0 $t1"
t0=$(now); dd if=/data/big.bin of=/dev/null bs=1M count={sizes['read_mib']} 2>/dev/null; t1=$(now); echo "read $t0 $t1"
head -c {sizes['sha_mib'] * 1048576} /data/big.bin > /dev/shm/x
t0=$(now); sha256sum /dev/shm/x >/dev/null; t1=$(now); echo "sha256 $t0 $t1"
rm -f /dev/shm/x
t0=$(now); n=$(find / -xdev | wc -l); t1=$(now); echo "find $t0 $t1 $n"
t0=$(now); dd if=/dev/zero of=/vol/out bs=1M count={sizes['write_mib']} conv=fsync 2>/dev/null; t1=$(now); echo "write $t0 $t1"
t0=$(now); awk 'BEGIN {{ s = 0; for (i = 0; i < {sizes['cpu_iterations']}; i++) s += i * i; print s }}' >/dev/null; t1=$(now); echo "cpu $t0 $t1"
"""


def parse(out):
    times, extra = {}, {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in JOBS + ("timer",):
            times[parts[0]] = float(parts[2]) - float(parts[1])
            if len(parts) > 3:
                extra[parts[0]] = parts[3]
    missing = [j for j in JOBS + ("timer",) if j not in times]
    if missing:
        raise RuntimeError(f"work script printed no time for {', '.join(missing)}: {out.strip()[-200:]}")
    return times, extra


def work(ctx, runtimes, sizes):
    image = build_image(ctx)
    sh = script(sizes)
    samples = {r.name: {j: [] for j in JOBS + ("timer", "container")} for r in runtimes}
    raw = {r.name: {j: [] for j in JOBS} for r in runtimes}
    shm = f"--shm-size={sizes['sha_mib'] + 32}m"  # Docker's default 64m cannot hold 64 MiB
    entries = {}
    errors = {}
    for r, measured in interleaved_rounds("work inside", ctx.warmup, ctx.work_rounds, runtimes, errors):
        def once():
            vol = tempfile.mkdtemp(prefix=f"rvbench-vol-{ctx.run_id}-", dir="/var/tmp")
            try:
                out, seconds = ctx.docker.run_rm(r, image, ["sh", "-c", sh], ["-v", f"{vol}:/vol", shm])
            finally:
                shutil.rmtree(vol, ignore_errors=True)
            times, extra = parse(out)
            return times, extra, seconds

        try:
            times, extra, seconds = ctx.retry(f"work in {r.name}", once)
        except (CommandError, RuntimeError) as e:
            errors[r.name] = str(e)
            continue
        if not measured:
            continue
        for j, v in times.items():
            if j in JOBS:
                raw[r.name][j].append(v)
                v -= times["timer"]
            samples[r.name][j].append(v)
        samples[r.name]["container"].append(seconds)
        entries[r.name] = extra.get("find")
    result = {}
    for r in runtimes:
        s = samples[r.name]
        result[r.name] = {"runtime": r.kind, "error": errors.get(r.name), "find_entries": entries.get(r.name),
                          "samples": s, "raw_samples": raw[r.name],
                          "summary": {j: summary(v) for j, v in s.items()}}
    return result

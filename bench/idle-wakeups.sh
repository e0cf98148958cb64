#!/usr/bin/env bash
# bench/idle-wakeups.sh [options]: what idle runvirt containers cost the host while they do
# nothing. Starts N containers running `sleep 3600` (docker run -d, --network none), lets them
# settle, then over a window measures per VM:
#   - CPU % of one core: QEMU, its two virtiofsd (parents and children) and the monitor, from
#     utime+stime in /proc/PID/stat;
#   - host wake-ups/s of QEMU: voluntary + nonvoluntary context switches summed over
#     /proc/QEMU/task/*/status, and, with perf, sched:sched_wakeup events whose wakee is one of
#     QEMU's threads (perf stat -a with a pid filter per VM);
#   - guest interrupts/s: /proc/interrupts deltas read with `docker exec` before and after the
#     window, over the guest's own /proc/uptime; "timer" is IRQ 0 (PIT/HPET) + LOC (local APIC).
# Then prints one row per VM and the mean, a per-thread and per-IRQ breakdown of the first VM,
# and removes every container it started (also on Ctrl-C or error). Measures the *installed*
# runvirt, like the rest of bench/.
#
# Options: -n N (10)  --settle S (20)  --duration S (60)  --runtime NAME (runvirt)
#          --image IMG (busybox)  --network NET (none)  --no-perf  --keep (leave the containers)
set -euo pipefail

n=10 settle=20 duration=60 runtime=runvirt image=busybox network=none use_perf=1 keep=0
while (($#)); do
  case "$1" in
    -n) n=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --runtime) runtime=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --network) network=$2; shift 2 ;;
    --no-perf) use_perf=0; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "idle-wakeups: unknown option $1 (--help)" >&2; exit 2 ;;
  esac
done

label="rvidle=$$"
work=$(mktemp -d /tmp/rvidle.XXXXXX)
cleanup() {
  local ids
  ids=$(docker ps -aq --filter "label=$label" 2>/dev/null || true)
  if [[ -n "$ids" && $keep == 0 ]]; then
    echo "removing $(wc -w <<<"$ids") containers" >&2
    # shellcheck disable=SC2086
    docker rm -f $ids >/dev/null 2>&1 || true
  fi
  [[ -n "${perf_pid:-}" ]] && kill "$perf_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hz=$(getconf CLK_TCK)
if ((use_perf)) && ! perf stat -a -e sched:sched_wakeup -x, -- true >/dev/null 2>&1; then
  echo "idle-wakeups: perf cannot count sched:sched_wakeup here; going on without it" >&2
  use_perf=0
fi

# ---- start the containers and find each one's host processes
echo "$(date -u '+%F %T') starting $n containers: docker run -d --runtime=$runtime" \
  "--network $network $image sleep 3600" >&2
ids=()
for ((i = 0; i < n; i++)); do
  ids+=("$(docker run -d --label "$label" --runtime="$runtime" --network "$network" "$image" \
    sleep 3600)")
done

state_field() {  # state_field ID KEY: a string or number of runvirt's state.json
  sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\}.*/\1/p" \
    "/run/docker/runtime-runc/moby/$1/state.json" | head -1
}
declare -A qemu monitor fsd
for id in "${ids[@]}"; do
  domain=$(state_field "$id" domainName)
  vmdir=$(state_field "$id" vmDir)
  monitor[$id]=$(state_field "$id" monitorPid)
  qemu[$id]=$(cat "/run/libvirt/qemu/$domain.pid")
  fsd[$id]=$(pgrep -f -- "source=$vmdir/(share|volumes)," | tr '\n' ' ')
  [[ -n "${qemu[$id]}" && -n "${fsd[$id]}" ]] || {
    echo "idle-wakeups: no QEMU or virtiofsd found for $id" >&2
    exit 1
  }
done

echo "$(date -u '+%T') settling ${settle} s" >&2
sleep "$settle"

# ---- snapshots
cpu_ticks() {  # utime+stime of the given processes (all their threads, live and exited)
  local pid sum=0 fields
  for pid in "$@"; do
    read -ra fields < <(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    ((${#fields[@]} > 12)) && sum=$((sum + fields[11] + fields[12]))
  done
  echo "$sum"
}
ctx_switches() {  # voluntary + nonvoluntary context switches over every thread of one process
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s + 0}'
}
thread_switches() {  # "tid comm switches" per thread of one process
  local t
  for t in /proc/"$1"/task/*; do
    echo "${t##*/} $(tr ' ' '_' <"$t/comm") $(awk '/ctxt_switches/ {s += $2} END {print s}' "$t/status")"
  done 2>/dev/null
}
guest_read() {  # guest_read ID FILE: uptime and interrupts of the guest
  docker exec "$1" cat /proc/uptime /proc/interrupts >"$2" 2>/dev/null || : >"$2"
}
host_snapshot() {  # host_snapshot DIR
  mkdir -p "$1"
  local id
  for id in "${ids[@]}"; do
    # shellcheck disable=SC2086
    echo "$(cpu_ticks "${qemu[$id]}") $(cpu_ticks ${fsd[$id]}) $(cpu_ticks "${monitor[$id]}")" \
      "$(ctx_switches "${qemu[$id]}")" >"$1/$id"
  done
  thread_switches "${qemu[${ids[0]}]}" >"$1/threads"
  date +%s.%N >"$1/time"
}

for id in "${ids[@]}"; do guest_read "$id" "$work/g0-$id"; done
host_snapshot "$work/h0"
if ((use_perf)); then
  events=()
  for id in "${ids[@]}"; do
    filter=$(ls "/proc/${qemu[$id]}/task" | sed 's/^/pid == /' | paste -sd '|' | sed 's/|/ || /g')
    events+=(-e sched:sched_wakeup --filter "$filter")
  done
  perf stat -a -x, -o "$work/perf" "${events[@]}" -- sleep "$duration" &
  perf_pid=$!
fi
echo "$(date -u '+%T') measuring ${duration} s" >&2
sleep "$duration"
host_snapshot "$work/h1"
[[ -n "${perf_pid:-}" ]] && { wait "$perf_pid" || true; perf_pid=; }
for id in "${ids[@]}"; do guest_read "$id" "$work/g1-$id"; done

# ---- report
wall=$(awk '{print $1}' "$work/h1/time" "$work/h0/time" | paste -sd - | bc -l)
perf_counts=()
if ((use_perf)); then
  mapfile -t perf_counts < <(grep sched_wakeup "$work/perf" | cut -d, -f1)
fi
# guest_rates G0 G1: "timer_per_s other_per_s" from two uptime+interrupts reads
guest_rates() {
  awk 'FNR == 1 {up[++f] = $1; next}
       /^ *CPU/ {next}
       {
         name = $1; sub(/:$/, "", name)
         if (name == "ERR" || name == "MIS") next
         s = 0
         for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
         v[f, name] = s; names[name] = 1
       }
       END {
         dt = up[2] - up[1]
         if (dt <= 0) { print "- -"; exit }
         for (k in names) {
           d = v[2, k] - v[1, k]
           if (k == "0" || k == "LOC") t += d; else o += d
         }
         printf "%.1f %.1f\n", t / dt, o / dt
       }' "$1" "$2"
}

echo
echo "idle-wakeups: $n x \`docker run -d --runtime=$runtime --network $network $image sleep 3600\`," \
  "settled ${settle} s, measured $(printf %.1f "$wall") s; $(date -u '+%F %T') UTC," \
  "runvirt $(runvirt --version 2>/dev/null | sed -n 's/^commit: //p')"
printf '%-12s %7s %7s %7s %7s %11s %11s %10s %10s\n' container "qemu%" "fsd%" "mon%" "total%" \
  "qemu-cs/s" "wakeups/s" "g-timer/s" "g-other/s"
tot_q=0 tot_f=0 tot_m=0 tot_cs=0 tot_w=0 tot_t=0 tot_o=0
i=0
for id in "${ids[@]}"; do
  read -r q0 f0 m0 c0 <"$work/h0/$id"
  read -r q1 f1 m1 c1 <"$work/h1/$id"
  read -r gt go < <(guest_rates "$work/g0-$id" "$work/g1-$id")
  w=${perf_counts[$i]:-}
  row=$(awk -v q=$((q1 - q0)) -v f=$((f1 - f0)) -v m=$((m1 - m0)) -v c=$((c1 - c0)) \
    -v w="$w" -v hz="$hz" -v t="$wall" -v gt="$gt" -v go="$go" -v name="${id:0:12}" 'BEGIN {
      ws = (w ~ /^[0-9]+$/) ? sprintf("%.1f", w / t) : "-"
      printf "%-12s %7.2f %7.2f %7.2f %7.2f %11.1f %11s %10s %10s\n", name, 100 * q / hz / t,
        100 * f / hz / t, 100 * m / hz / t, 100 * (q + f + m) / hz / t, c / t, ws, gt, go
    }')
  echo "$row"
  read -r _ rq rf rm rt rc rw _ <<<"$row"
  tot_q=$(bc -l <<<"$tot_q + $rq") tot_f=$(bc -l <<<"$tot_f + $rf")
  tot_m=$(bc -l <<<"$tot_m + $rm") tot_cs=$(bc -l <<<"$tot_cs + $rc")
  [[ "$rw" != - ]] && tot_w=$(bc -l <<<"$tot_w + $rw")
  [[ "$gt" != - ]] && tot_t=$(bc -l <<<"$tot_t + $gt") && tot_o=$(bc -l <<<"$tot_o + $go")
  i=$((i + 1))
done
awk -v n="$n" -v q="$tot_q" -v f="$tot_f" -v m="$tot_m" -v c="$tot_cs" -v w="$tot_w" \
  -v p="$use_perf" -v gt="$tot_t" -v go="$tot_o" 'BEGIN {
  printf "%-12s %7.2f %7.2f %7.2f %7.2f %11.1f %11s %10.1f %10.1f\n", "mean", q / n, f / n, m / n,
    (q + f + m) / n, c / n, p ? sprintf("%.1f", w / n) : "-", gt / n, go / n
}'

echo
echo "first VM (${ids[0]:0:12}), QEMU threads, context switches/s:"
join <(sort "$work/h0/threads") <(sort "$work/h1/threads") |
  awk -v t="$wall" '{printf "  %-8s %-20s %8.1f\n", $1, $2, ($5 - $3) / t}'
echo "first VM, guest interrupts/s by source:"
awk 'FNR == 1 {up[++f] = $1; next}
     /^ *CPU/ {next}
     {
       name = $1; sub(/:$/, "", name); s = 0
       for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
       desc = ""
       for (; i <= NF; i++) desc = desc " " $i
       v[f, name] = s; d[name] = desc; names[name] = 1
     }
     END {
       dt = up[2] - up[1]
       if (dt <= 0) exit
       for (k in names) {
         r = (v[2, k] - v[1, k]) / dt
         if (r > 0) printf "  %-6s %8.2f %s\n", k, r, d[k]
       }
     }' "$work/g0-${ids[0]}" "$work/g1-${ids[0]}" | sort -k2 -nr

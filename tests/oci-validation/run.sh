#!/bin/bash
# Runs the OCI runtime-tools validation suite against runc and runvirt side by side.
#
# Usage: tests/oci-validation/run.sh [SUITE_DIR] [PROGRAM...]
#        tests/oci-validation/run.sh --report RESULTS_DIR   (print the table of an earlier run again)
#
#   SUITE_DIR  a built runtime-tools checkout (runtimetest, rootfs-<arch>.tar.gz and
#              validation/*/*.t); default $OCI_SUITE or /tmp/runtime-tools
#   PROGRAM    only these validation programs (e.g. killsig mounts); default: all of them
#
# Environment:
#   OCI_RESULTS   results directory (default build/oci-validation/<UTC date-time>/ in the repo)
#   OCI_TIMEOUT   seconds each program may run per runtime (default 300)
#   OCI_RUNTIMES  runtimes to compare, space separated (default "runc runvirt"); each is a
#                 command name or path; runvirt is copied to a private path first so that a
#                 reinstall during the run does not change the binary under test
#
# For every program, runs it with RUNTIME=runc, then with RUNTIME=runvirt (interleaved),
# saves its TAP on stdout as <results>/<runtime>/<program>.tap and its stderr as .err,
# and prints a table: program | per runtime PASS/FAIL (ok/not ok). A program passes when it
# exits 0 and its TAP has no "not ok" line; several programs (the hook ones) print no test line
# at all and report a failure only as an "error" YAML diagnostic after "TAP version 13", so a
# TAP without any ok/not ok line but with such a diagnostic fails too (shown as "0/0 + error").
# The table is also saved as <results>/table.txt, one line per program and runtime as
# <results>/results.tsv.
set -u

count() { # count REGEX FILE: number of matching lines (0 when none)
  local n
  n=$(grep -cE "$1" "$2" 2>/dev/null) || true
  echo "${n:-0}"
}

errors() { # errors FILE: "error" diagnostics of a TAP that has no test line (0 otherwise)
  if [ "$(count '^[[:space:]]*(not )?ok([[:space:]]|$)' "$1")" -gt 0 ]; then echo 0; return; fi
  count '^[[:space:]]+"error": ' "$1"
}

verdict() { # verdict EXIT OK NOTOK ERRORS
  if [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; then echo TIMEOUT
  elif [ "$1" -eq 0 ] && [ "$3" -eq 0 ] && [ "$4" -eq 0 ]; then echo PASS
  else echo FAIL; fi
}

# report RESULTS: recount every <runtime>/<program>.tap (exit status and time from results.tsv)
# and print the table, also saved as RESULTS/table.txt.
report() {
  local res=$1 prog rt rc secs ok notok errs v
  local -a progs=() rts=()
  declare -A cell pass oks notoks seen
  while IFS=$'\t' read -r prog rt _ _ _ rc secs; do
    [ -n "${seen[p:$prog]:-}" ] || { progs+=("$prog"); seen[p:$prog]=1; }
    [ -n "${seen[r:$rt]:-}" ] || { rts+=("$rt"); seen[r:$rt]=1; pass[$rt]=0; oks[$rt]=0; notoks[$rt]=0; }
    ok=$(count '^[[:space:]]*ok([[:space:]]|$)' "$res/$rt/$prog.tap")
    notok=$(count '^[[:space:]]*not ok([[:space:]]|$)' "$res/$rt/$prog.tap")
    errs=$(errors "$res/$rt/$prog.tap")
    v=$(verdict "$rc" "$ok" "$notok" "$errs")
    [ "$v" = PASS ] && pass[$rt]=$(( ${pass[$rt]} + 1 ))
    oks[$rt]=$(( ${oks[$rt]} + ok )); notoks[$rt]=$(( ${notoks[$rt]} + notok ))
    cell[$prog/$rt]="$v $ok/$notok"
    [ "$errs" -gt 0 ] && cell[$prog/$rt]+=" + error"
    [ "$rc" -ne 0 ] && cell[$prog/$rt]+=" (exit $rc)"
  done < "$res/results.tsv"
  {
    printf '%-32s' program
    for rt in "${rts[@]}"; do printf ' | %-26s' "$rt (ok/not ok)"; done
    echo
    printf '%-32s' '' | tr ' ' -
    for rt in "${rts[@]}"; do printf '%s' '-+----------------------------'; done
    echo
    for prog in "${progs[@]}"; do
      printf '%-32s' "$prog"
      for rt in "${rts[@]}"; do printf ' | %-26s' "${cell[$prog/$rt]:-not run}"; done
      echo
    done
    echo
    for rt in "${rts[@]}"; do
      printf '%-8s programs passed %d/%d; assertions ok %d, not ok %d\n' "$rt" \
        "${pass[$rt]}" "${#progs[@]}" "${oks[$rt]}" "${notoks[$rt]}"
    done
    echo "results: $res"
  } | tee "$res/table.txt"
}

if [ "${1:-}" = --report ]; then
  [ -f "${2:-}/results.tsv" ] || { echo "run.sh: --report needs a results directory" >&2; exit 2; }
  report "$(cd "$2" && pwd)"
  exit 0
fi

repo=$(cd "$(dirname "$0")/../.." && pwd)
suite=${OCI_SUITE:-/tmp/runtime-tools}
if [ $# -gt 0 ] && [ -d "$1" ]; then
  suite=$1
  shift
fi
suite=$(cd "$suite" 2>/dev/null && pwd -P) || { echo "run.sh: no suite directory" >&2; exit 2; }
timeout_s=${OCI_TIMEOUT:-300}
runtimes=(${OCI_RUNTIMES:-runc runvirt})
results=${OCI_RESULTS:-$repo/build/oci-validation/$(date -u +%Y%m%d-%H%M%S)}

arch=$(go env GOARCH 2>/dev/null || echo amd64)
for f in runtimetest "rootfs-$arch.tar.gz"; do
  [ -e "$suite/$f" ] || { echo "run.sh: $suite/$f missing: build the suite first (see README.md)" >&2; exit 2; }
done

if [ $# -gt 0 ]; then
  programs=("$@")
else
  programs=()
  for t in "$suite"/validation/*/*.t; do
    [ -x "$t" ] && programs+=("$(basename "$t" .t)")
  done
fi
[ ${#programs[@]} -gt 0 ] || { echo "run.sh: no validation/*/*.t in $suite" >&2; exit 2; }

mkdir -p "$results/bin"
results=$(cd "$results" && pwd)

# Resolve each runtime to an absolute path; copy runvirt to a private one.
declare -A rtpath
for rt in "${runtimes[@]}"; do
  p=$(command -v "$rt") || { echo "run.sh: runtime $rt not found" >&2; exit 2; }
  if [ "$(basename "$rt")" = runvirt ]; then
    cp "$p" "$results/bin/runvirt"
    p=$results/bin/runvirt
  fi
  rtpath[$rt]=$p
  mkdir -p "$results/$(basename "$rt")"
done

{
  echo "date: $(date -u +%FT%TZ)"
  echo "suite: $suite ($(git -C "$suite" describe --tags --always 2>/dev/null || echo unknown))"
  for rt in "${runtimes[@]}"; do
    echo "$rt: ${rtpath[$rt]}: $("${rtpath[$rt]}" --version 2>&1 | head -1)"
  done
  echo "timeout: ${timeout_s}s per program and runtime"
} | tee "$results/info.txt"

: > "$results/results.tsv"

for prog in "${programs[@]}"; do
  exe=$suite/validation/$prog/$prog.t
  for rt in "${runtimes[@]}"; do
    name=$(basename "$rt")
    out=$results/$name/$prog.tap
    err=$results/$name/$prog.err
    start=$(date +%s)
    if [ -x "$exe" ]; then
      (cd "$suite" && RUNTIME=${rtpath[$rt]} timeout -k 10 "$timeout_s" "$exe" > "$out" 2> "$err" < /dev/null)
      rc=$?
    else
      echo "missing $exe" > "$err"; : > "$out"; rc=127
    fi
    secs=$(( $(date +%s) - start ))
    ok=$(count '^[[:space:]]*ok([[:space:]]|$)' "$out")
    notok=$(count '^[[:space:]]*not ok([[:space:]]|$)' "$out")
    skip=$(count '^[[:space:]]*ok.*# *SKIP' "$out")
    v=$(verdict "$rc" "$ok" "$notok" "$(errors "$out")")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$prog" "$name" "$v" "$ok" "$notok" "$rc" "$secs" \
      >> "$results/results.tsv"
    printf '%-40s %-8s %-7s ok %3s  not ok %3s  skip %2s  exit %3s  %4ss\n' \
      "$prog" "$name" "$v" "$ok" "$notok" "$skip" "$rc" "$secs" >&2
  done
done


echo
report "$results"

# runc's linux_ns_itype (no mount namespace) leaves its mounts in the host's mount namespace.
leaked=$(awk -v t="${TMPDIR:-/tmp}/ocitest" 'index($2, t) == 1 { print $2 }' /proc/mounts)
if [ -n "$leaked" ]; then
  echo "warning: mounts left under ${TMPDIR:-/tmp}/ocitest* (umount -R them before removing):" >&2
  echo "$leaked" | sed 's/^/  /' >&2
fi

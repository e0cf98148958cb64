#!/usr/bin/env bash
# Fails when a source file includes a folder it may not (the Makefile's layering table):
#   check-layering.sh DIR:ALLOWED,ALLOWED... ...
# DIR is a folder of the repository (its files may include its own headers); ALLOWED names the
# include prefixes it may use besides its own ("common" for "common/files.hpp", "runvirt" for
# oci/ and guest/protocol/). Angle-bracket includes of libvirt, libseccomp and boost are allowed
# only in the files named by LIBVIRT_FILES, SECCOMP_FILES and BOOST_FILES.
set -euo pipefail
cd "$(dirname "$0")/.."

failures=0
fail() {
  echo "layering: $1" >&2
  failures=$((failures + 1))
}

# The quoted include prefixes a file uses: "monitor" for #include "monitor/vm_session.hpp";
# "." for a header of the same folder (no slash).
prefixes() {
  sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1" |
    while read -r path; do
      case "$path" in */*) echo "${path%%/*}" ;; *) echo "." ;; esac
    done | sort -u
}

for rule in "$@"; do
  dir=${rule%%:*}
  allowed=" . ${dir##*/} $(echo "${rule#*:}" | tr ',' ' ') "
  while IFS= read -r file; do
    for prefix in $(prefixes "$file"); do
      [[ "$allowed" == *" $prefix "* ]] || fail "$file includes \"$prefix/...\": $dir may include only${allowed// . / }"
    done
  done < <(git ls-files "$dir/*.cpp" "$dir/*.hpp")
done

# One file per outside library.
check_library() {
  local pattern=$1 files=$2 file
  while IFS= read -r file; do
    [[ " $files " == *" $file "* ]] || fail "$file includes <$pattern...>: only $files may"
  done < <(git grep -l "^#include <$pattern" -- '*.cpp' '*.hpp' || true)
}
check_library libvirt/ "${LIBVIRT_FILES:-}"
check_library seccomp "${SECCOMP_FILES:-}"
check_library boost/ "${BOOST_FILES:-}"

if ((failures)); then
  echo "layering: $failures violation(s); the table is in the Makefile (LAYERS)" >&2
  exit 1
fi
echo "layering: ok"

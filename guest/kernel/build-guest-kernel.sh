#!/usr/bin/env bash
# build-guest-kernel.sh --out DIR: the runvirt guest kernel (runvirt-guest.config) from Debian's
# linux-source-6.1, as DIR/vmlinux (PVH ELF) and DIR/kernel-version. Skips the build when DIR
# already holds a kernel made from the same source and config. Needs: linux-source-6.1, flex,
# bison, libelf-dev, bc, make, gcc.
set -euo pipefail

out=
while (($#)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    *) echo "usage: build-guest-kernel.sh --out DIR" >&2; exit 2 ;;
  esac
done
[[ -n "$out" ]] || { echo "build-guest-kernel: --out DIR is required" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/runvirt-guest.config
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -1 || true)
[[ -n "$tarball" ]] || { echo "build-guest-kernel: no /usr/src/linux-source-6.1.tar.*: apt-get install linux-source-6.1" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
# Contents only (not paths): a copy of the tree (the package builds) finds the same stamp.
stamp="$(cat "$tarball" "$fragment" "$0" | sha256sum | cut -c1-16)"
if [[ -f "$out/vmlinux" && -f "$out/build-stamp" && "$(cat "$out/build-stamp")" == "$stamp" ]]; then
  echo "build-guest-kernel: $out/vmlinux is up to date"
  exit 0
fi

work=$out/src
if [[ ! -f "$work/Makefile" ]]; then
  rm -rf "$work" && mkdir -p "$work"
  tar -xf "$tarball" -C "$work" --strip-components=1
fi
cd "$work"
# One change of runvirt's own to the source: a boot parameter that sets the local APIC timer's
# rate, so a TCG guest (whose APIC timer runs at QEMU's fixed 1 GHz) uses that timer without
# calibrating it against the PIT (~0.25 s of boot). Its one-shot range (seconds, against the
# PIT's 27 ms) is what lets an idle guest sleep. Applied once to the unpacked tree.
if ! grep -q '"lapic_timer_period"' arch/x86/kernel/apic/apic.c; then
  patch -s -p1 <<'PATCH'
--- a/arch/x86/kernel/apic/apic.c
+++ b/arch/x86/kernel/apic/apic.c
@@ -2946,6 +2946,18 @@
 }
 early_param("noapictimer", parse_disable_apic_timer);
 
+/*
+ * runvirt: lapic_timer_period=N gives the local APIC timer's rate (bus clocks per jiffy) when
+ * the hypervisor's is known, so the timer is set up without being calibrated against the PIT.
+ */
+static int __init parse_lapic_timer_period(char *arg)
+{
+	if (!arg)
+		return -EINVAL;
+	return kstrtouint(arg, 0, &lapic_timer_period);
+}
+early_param("lapic_timer_period", parse_lapic_timer_period);
+
 static int __init parse_nolapic_timer(char *arg)
 {
 	disable_apic_timer = 1;
PATCH
fi
# Regenerating .config touches it, which would rebuild everything: keep the old file when the
# result is the same.
[[ -f .config ]] && cp -p .config .config.previous
make -s tinyconfig
# The fragment's options: NAME (built in) or NAME=n (off), one per line.
fragment_options() {
  local line
  while read -r line; do
    line=${line%%#*}
    line=${line//[[:space:]]/}
    [[ -n "$line" ]] && echo "$line"
  done <"$fragment"
}
options=()
while read -r option; do
  if [[ "$option" == *=n ]]; then options+=(-d "${option%=n}"); else options+=(-e "$option"); fi
done < <(fragment_options)
# -runvirt in `uname -r`: a container shows which kernel it runs under.
./scripts/config "${options[@]}" --set-str LOCALVERSION -runvirt -d LOCALVERSION_AUTO -d MODULES -d RD_GZIP -d RD_BZIP2 -d RD_LZMA -d RD_XZ -d RD_LZO -d RD_LZ4 -d RD_ZSTD
make -s olddefconfig
if [[ -f .config.previous ]] && cmp -s .config .config.previous; then
  mv .config.previous .config
fi
rm -f .config.previous
# Every requested option must have survived olddefconfig (a missing dependency drops it).
missing=()
while read -r option; do
  if [[ "$option" == *=n ]]; then
    grep -q "^CONFIG_${option%=n}=" .config && missing+=("$option")
  else
    grep -q "^CONFIG_${option}=y" .config || missing+=("$option")
  fi
done < <(fragment_options)
if ((${#missing[@]})); then
  echo "build-guest-kernel: options olddefconfig did not keep as asked: ${missing[*]}" >&2
  exit 1
fi
make -s -j"$(nproc)" vmlinux
release=$(cat include/config/kernel.release)  # not `make kernelrelease`: a parent make adds its chatter
if ! readelf -n vmlinux | grep -q 0x00000012; then
  echo "build-guest-kernel: vmlinux has no PVH entry note" >&2
  exit 1
fi
install -m 0644 vmlinux "$out/vmlinux.tmp" && mv "$out/vmlinux.tmp" "$out/vmlinux"
printf '%s\n' "$release" > "$out/kernel-version"
printf '%s\n' "$stamp" > "$out/build-stamp"
echo "build-guest-kernel: built $out/vmlinux ($release)"

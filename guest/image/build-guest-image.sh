#!/bin/bash
# Builds the runvirt guest image for one kernel (the runvirt guest kernel or a Debian cloud kernel):
#   DIR/vmlinux         uncompressed PVH ELF of the kernel (QEMU boots it without decompressing)
#   DIR/initrd.img      uncompressed newc cpio: /init (the static agent), /dev/console, the virtio
#                       modules and /lib/modules/load.list (their load order)
#   DIR/kernel-version  the kernel release both were built for
# Each file is built in a temporary directory next to DIR and renamed into place, so a VM never
# boots a half-written image. Running it again rebuilds the initrd and reuses an up-to-date vmlinux.
#
# Usage: build-guest-image.sh --agent PATH --out DIR [--kernel-version KVER | --vmlinux PATH]
# With --vmlinux (the runvirt guest kernel, guest/kernel/): that uncompressed kernel, whose drivers
# are all built in (no modules); its release is read from kernel-version next to it. Without either
# option: the runvirt guest kernel installed next to this script (guest-kernel/vmlinux, as `make
# install` and the packages put it) if there is one, else the newest Debian cloud kernel.
# Needs: cpio, kmod (modprobe), lz4, binutils (readelf, strip); xz for a generic (xz) kernel.
set -euo pipefail
umask 022

readonly MODULES=(virtio_pci virtio_console virtiofs virtio_net)
readonly LZ4_MAGIC='\x02\x21\x4c\x18'  # lz4 legacy frame, used by Debian's cloud kernel
readonly XZ_MAGIC='\xfd7zXZ\x00'
readonly PVH_NOTE='(0x00000012)'        # Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY: the PVH entry point

die() {
  echo "build-guest-image: $*" >&2
  exit 1
}

usage() {
  echo "usage: build-guest-image.sh --agent PATH --out DIR [--kernel-version KVER | --vmlinux PATH]" >&2
  exit 2
}

agent=""
out=""
kver=""
builtin_vmlinux=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --agent) [[ $# -ge 2 ]] || usage; agent="$2"; shift 2 ;;
    --out) [[ $# -ge 2 ]] || usage; out="$2"; shift 2 ;;
    --kernel-version) [[ $# -ge 2 ]] || usage; kver="$2"; shift 2 ;;
    --vmlinux) [[ $# -ge 2 ]] || usage; builtin_vmlinux="$2"; shift 2 ;;
    -h | --help) usage ;;
    *) echo "build-guest-image: unknown argument: $1" >&2; usage ;;
  esac
done
[[ -n "$agent" && -n "$out" ]] || usage

for tool in cpio modprobe lz4 readelf strip; do
  command -v "$tool" >/dev/null || die "missing tool: $tool (install cpio, kmod, lz4, binutils)"
done
[[ "$(id -u)" -eq 0 ]] || die "must run as root (the initrd needs a /dev/console device node)"

newest_cloud_kernel() {
  local images=(/boot/vmlinuz-*-cloud-amd64)
  [[ -e "${images[0]}" ]] || return 1
  printf '%s\n' "${images[@]}" | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1
}

installed_vmlinux="$(dirname "$(readlink -f "$0")")/guest-kernel/vmlinux"
if [[ -z "$builtin_vmlinux" && -z "$kver" && -f "$installed_vmlinux" ]]; then
  builtin_vmlinux=$installed_vmlinux
fi
if [[ -n "$builtin_vmlinux" ]]; then
  [[ -r "$builtin_vmlinux" ]] || die "kernel not found: $builtin_vmlinux"
  readelf -n "$builtin_vmlinux" | grep -qF "$PVH_NOTE" || die "$builtin_vmlinux has no PVH entry point"
  kver="$(cat "$(dirname "$builtin_vmlinux")/kernel-version")" ||
    die "no kernel-version next to $builtin_vmlinux"
  [[ "$kver" =~ ^[0-9][A-Za-z0-9._+-]*$ ]] ||
    die "$(dirname "$builtin_vmlinux")/kernel-version does not hold one kernel release: $kver"
elif [[ -z "$kver" ]]; then
  kver="$(newest_cloud_kernel)" ||
    die "no Debian cloud kernel found (/boot/vmlinuz-*-cloud-amd64); install linux-image-cloud-amd64 or pass --kernel-version"
fi
if [[ -z "$builtin_vmlinux" ]]; then
  vmlinuz="/boot/vmlinuz-$kver"
  [[ -r "$vmlinuz" ]] || die "kernel image not found: $vmlinuz"
  [[ -d "/lib/modules/$kver" ]] || die "modules not found: /lib/modules/$kver"
fi

[[ -r "$agent" ]] || die "agent not found: $agent"
readelf -h "$agent" >/dev/null 2>&1 || die "agent is not an ELF file: $agent"
if readelf -l "$agent" | grep -q INTERP; then
  die "agent is dynamically linked (has a program interpreter): $agent; it must be static"
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
tmp="$(mktemp -d "$(dirname "$out")/.$(basename "$out").build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Tries each occurrence of a compression magic in the bzImage until one decompresses to an ELF.
extract_payload() {  # MAGIC DECOMPRESSOR... ; writes $tmp/vmlinux
  local magic="$1"
  shift
  local found offset
  local -a offsets
  found="$(LC_ALL=C grep -obUaP "$magic" "$vmlinuz" | cut -d: -f1)" || return 1
  mapfile -t offsets <<<"$found"
  for offset in "${offsets[@]}"; do
    # The payload is followed by other data, so the decompressor may complain at its end.
    tail -c "+$((offset + 1))" "$vmlinuz" | "$@" >"$tmp/vmlinux" 2>/dev/null || true
    if readelf -h "$tmp/vmlinux" >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}

vmlinux_is_current() {
  if [[ -n "$builtin_vmlinux" ]]; then
    cmp -s "$builtin_vmlinux" "$out/vmlinux"
    return
  fi
  [[ -f "$out/vmlinux" && "$out/vmlinux" -nt "$vmlinuz" && -f "$out/kernel-version" ]] &&
    [[ "$(cat "$out/kernel-version")" == "$kver" ]]
}

build_vmlinux() {
  if [[ -n "$builtin_vmlinux" ]]; then
    cp "$builtin_vmlinux" "$tmp/vmlinux"
    chmod 0644 "$tmp/vmlinux"
    return
  fi
  if ! extract_payload "$LZ4_MAGIC" lz4 -dc; then
    command -v xz >/dev/null && extract_payload "$XZ_MAGIC" xz -dc ||
      die "could not extract an ELF kernel from $vmlinuz (no lz4 or xz payload found)"
  fi
  readelf -n "$tmp/vmlinux" | grep -qF "$PVH_NOTE" ||
    die "$vmlinuz has no PVH entry point (Xen note 0x12); the kernel needs CONFIG_PVH=y"
  chmod 0644 "$tmp/vmlinux"
}

# Prints the .ko files needed for each module, dependencies first, each once.
module_files() {
  local module
  for module in "${MODULES[@]}"; do
    modprobe -S "$kver" --show-depends "$module" ||
      die "modprobe cannot resolve module $module for kernel $kver"
  done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# Copies one module into the staging tree, uncompressed (the agent loads plain .ko files).
stage_module() {  # KO_PATH DEST_DIR ; prints the staged file name
  local ko="$1" dest="$2" name
  name="$(basename "$ko")"
  case "$ko" in
    *.ko.xz) name="${name%.xz}"; xz -dc "$ko" >"$dest/$name" ;;
    *.ko.zst) name="${name%.zst}"; zstd -qdc "$ko" >"$dest/$name" ;;
    *.ko.gz) name="${name%.gz}"; gzip -dc "$ko" >"$dest/$name" ;;
    *.ko) cp "$ko" "$dest/$name" ;;
    *) die "unexpected module file: $ko" ;;
  esac
  chmod 0644 "$dest/$name"
  echo "$name"
}

stage_modules() {  # ROOT
  local root="$1" found ko
  local -a files
  found="$(module_files)"
  [[ -n "$found" ]] || die "no modules resolved for kernel $kver"
  mapfile -t files <<<"$found"
  for ko in "${files[@]}"; do
    stage_module "$ko" "$root/lib/modules"
  done >"$root/lib/modules/load.list"
}

build_initrd() {
  local root="$tmp/root"
  mkdir -p "$root"/{proc,sys,dev,run,lib/modules}
  mkdir -m 1777 "$root/tmp"
  # Debug symbols stay in the build tree; the kernel would copy them into guest RAM at boot.
  strip -o "$root/init" "$agent"
  chmod 0755 "$root/init"
  mknod -m 0600 "$root/dev/console" c 5 1
  if [[ -n "$builtin_vmlinux" ]]; then
    : >"$root/lib/modules/load.list"  # every driver is built into this kernel
  else
    stage_modules "$root"
  fi
  # Fixed timestamps and --reproducible: the same inputs give the same bytes.
  find "$root" -exec touch -h -d @0 {} +
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc --owner root:root --reproducible --quiet) >"$tmp/initrd.img"
  chmod 0644 "$tmp/initrd.img"
}

if vmlinux_is_current; then
  echo "build-guest-image: $out/vmlinux is up to date for $kver"
else
  build_vmlinux
  mv -f "$tmp/vmlinux" "$out/vmlinux"
fi
build_initrd
mv -f "$tmp/initrd.img" "$out/initrd.img"
echo "$kver" >"$tmp/kernel-version"
chmod 0644 "$tmp/kernel-version"
mv -f "$tmp/kernel-version" "$out/kernel-version"
echo "build-guest-image: wrote $out/{vmlinux,initrd.img,kernel-version} for kernel $kver"

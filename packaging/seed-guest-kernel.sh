# Sourced by packaging/{deb,rpm}/build.sh. seed_guest_kernel DIR: copies the guest kernel of this
# tree's build (if any) into DIR's build/guest-kernel, so the package build finds it up to date
# (build-guest-kernel.sh compares content stamps) instead of compiling it again for ~4 minutes.
seed_guest_kernel() {
  local from=build/guest-kernel to="$1/build/guest-kernel"
  [[ -f "$from/vmlinux" && -f "$from/build-stamp" && -f "$from/kernel-version" ]] || return 0
  mkdir -p "$to"
  cp -p "$from/vmlinux" "$from/build-stamp" "$from/kernel-version" "$to/"
}

#!/usr/bin/env bash
# Installs every package runvirt needs to build, run and test, with apt. Idempotent: a
# machine that has them all is left alone (no apt-get update).
# install-deps.sh PACKAGE...: the same for only those packages (bench/install-deps.sh).
set -euo pipefail

build=(g++ make pkg-config libvirt-dev nlohmann-json3-dev libboost-dev libboost-program-options-dev
       libseccomp-dev libgtest-dev libtomlplusplus-dev)
# libvirt + QEMU (TCG or KVM), virtiofsd (in qemu-system-common), the fallback guest kernel.
run=(libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 linux-image-cloud-amd64
     tini iproute2 procps)
guest_image=(cpio kmod lz4 binutils)
# The runvirt guest kernel (guest/kernel/build-guest-kernel.sh), built from Debian's source.
guest_kernel=(linux-source-6.1 flex bison libelf-dev bc)
# Docker 20.10 with runc, side by side with runvirt in the Docker suite.
docker=(docker.io runc)
tests=(busybox-static util-linux jq)
# make fuzz: clang++ with its sanitizer and libFuzzer runtimes (libclang_rt.asan/ubsan/fuzzer
# are all in libclang-rt-14-dev). make unit-asan uses g++'s own (libasan, libubsan).
sanitizers=(clang libclang-rt-14-dev)
# make deb (dpkg-buildpackage checks build-essential), make rpm (rpmbuild), the package test.
packaging=(build-essential debhelper dpkg-dev rpm)

packages=("${build[@]}" "${run[@]}" "${guest_image[@]}" "${guest_kernel[@]}" "${docker[@]}" "${tests[@]}" "${sanitizers[@]}"
          "${packaging[@]}")
(($#)) && packages=("$@")
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [[ $EUID -ne 0 ]]; then
  echo "install-deps: missing ${missing[*]}; run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

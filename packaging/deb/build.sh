#!/usr/bin/env bash
# `make deb`: the binary package, built by dpkg-buildpackage from a copy of the source tree with
# packaging/deb/debian as its debian/ directory. dpkg-buildpackage writes its results next to
# the source directory, so all of them land in build/deb.
# Usage: packaging/deb/build.sh VERSION COMMIT   (DEB_BUILD_OPTIONS defaults to "nocheck
# parallel=<nproc>": `make check` runs the unit tests itself)
set -euo pipefail
version=$1
commit=$2
cd "$(dirname "$0")/../.."

changelog_version=$(dpkg-parsechangelog -l packaging/deb/debian/changelog -S Version)
if [[ "$changelog_version" != "$version" ]]; then
  echo "make deb: packaging/deb/debian/changelog is at $changelog_version but the Makefile's VERSION is $version" >&2
  exit 1
fi

source packaging/seed-guest-kernel.sh
out=build/deb
src=$out/runvirt-$version
rm -rf "$out"
mkdir -p "$src"
tar -c --exclude=./build --exclude=./.git . | tar -C "$src" -x
cp -r packaging/deb/debian "$src/debian"
seed_guest_kernel "$src"
echo "$commit" >"$src/.commit"

export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-nocheck parallel=$(nproc)}"
(cd "$src" && dpkg-buildpackage -us -uc -b)
ls -l "$out"/runvirt_"$version"_amd64.deb

#!/usr/bin/env bash
# `make rpm`: the binary rpm, built by rpmbuild (Debian's `rpm` package has it) from a tarball of
# the source tree, in build/rpm (rpmbuild's _topdir). Build dependencies are not checked
# (--nodeps): they are Fedora's names, and on Debian scripts/install-deps.sh installs them.
# Usage: packaging/rpm/build.sh VERSION COMMIT
set -euo pipefail
version=$1
commit=$2
cd "$(dirname "$0")/../.."

spec_version=$(sed -n 's/^Version:[[:space:]]*//p' packaging/rpm/runvirt.spec)
if [[ "$spec_version" != "$version" ]]; then
  echo "make rpm: packaging/rpm/runvirt.spec is at $spec_version but the Makefile's VERSION is $version" >&2
  exit 1
fi

source packaging/seed-guest-kernel.sh
top=$PWD/build/rpm
rm -rf "$top"
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS} "$top/stage/runvirt-$version"
tar -c --exclude=./build --exclude=./.git . | tar -C "$top/stage/runvirt-$version" -x
echo "$commit" >"$top/stage/runvirt-$version/.commit"
seed_guest_kernel "$top/stage/runvirt-$version"
tar -C "$top/stage" -czf "$top/SOURCES/runvirt-$version.tar.gz" "runvirt-$version"
rm -rf "$top/stage"
cp packaging/rpm/runvirt.spec "$top/SPECS/"
rpmbuild -bb --nodeps --define "_topdir $top" --define "_smp_mflags -j$(nproc)" "$top/SPECS/runvirt.spec"
ls -l "$top"/RPMS/x86_64/runvirt-"$version"-1.x86_64.rpm

#!/usr/bin/env bash
# Package test: the real deb, used the way a platform engineer uses it.
#   1. apt-get install ./runvirt_*.deb; runvirt check (TCG or KVM and why, in < 10 s);
#      docker run --runtime=kata busybox uname -r prints the guest kernel; the kernel hook
#      rebuilds the guest image; apt-get purge removes runvirt and kata from daemon.json and
#      leaves its other keys (a seeded key and runtime) as they were, and removes the guest
#      image, /etc/runvirt and the hook.
#   2. install again, apt-get remove (runtimes and image gone, config kept, hook inert), purge.
#   3. the rpm (make rpm) has the deb's file list and the same scriptlets.
# Never skips: daemons are started, a missing tool is a failure. Idempotent: a package left
# installed by an earlier run is purged first. The development set-up (`make install` and its
# Docker runtimes runvirt/kata, whatever they point at) is put back at the end, even on failure.
# Usage: tests/package/run.sh DEB RPM
set -euo pipefail
deb=$(realpath "$1")
rpm=$(realpath "$2")
cd "$(dirname "$0")/../.."

daemon_json=/etc/docker/daemon.json
guest_dir=/var/lib/runvirt/guest
dev_lib=/usr/local/lib/runvirt
export DEBIAN_FRONTEND=noninteractive

fail() {
  echo "package-test: FAIL: $*" >&2
  exit 1
}
step() { echo "package-test: $*"; }

for tool in jq docker apt-get dpkg-deb rpm; do
  command -v "$tool" >/dev/null || fail "missing tool: $tool (scripts/install-deps.sh installs it)"
done
bash scripts/start-daemons.sh
bash scripts/make-docker-images.sh

work=$(mktemp -d /tmp/runvirt-package-test.XXXXXX)

# daemon.json as it is (key order kept), and sorted for comparisons.
raw_json() { if [[ -e "$daemon_json" ]]; then cat "$daemon_json"; else echo '{}'; fi; }
json() { raw_json | jq -S .; }
write_json() {  # [JQ OPTIONS] FILTER: rewrites daemon.json through jq
  raw_json | jq "$@" >"$work/new.json"
  install -m 0644 "$work/new.json" "$daemon_json"
}
reload_dockerd() {
  if [[ -s /var/run/docker.pid ]]; then kill -HUP "$(cat /var/run/docker.pid)" 2>/dev/null || true; fi
}
status() { dpkg-query -W -f='${db:Status-Status}' runvirt 2>/dev/null || true; }
installed() { [[ "$(status)" == installed ]]; }
known() { [[ -n "$(status)" && "$(status)" != not-installed ]]; }  # installed, or config files left
purge() {
  if known; then apt-get purge -y -q runvirt >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; return 1; }; fi
}

# --- The development set-up, put back by restore() --------------------------------------------
if known; then
  step "purging runvirt left installed by an earlier run"
  purge
fi
mkdir -p "$(dirname "$daemon_json")"
raw_json | jq '.runtimes // {} | with_entries(select(.key == "runvirt" or .key == "kata"))' >"$work/dev-runtimes.json"
if [[ -e /etc/runvirt ]]; then
  cp -a /etc/runvirt "$work/etc-runvirt"
fi
seeded_key=false
seeded_runtime=false

restore() {
  local status=$?
  set +e
  if known; then purge || echo "package-test: could not purge runvirt (see above)" >&2; fi
  # The seeded entries, then the development runtimes exactly as they were.
  if $seeded_key; then write_json 'del(."max-concurrent-uploads")'; fi
  if $seeded_runtime; then write_json 'del(.runtimes."runvirt-package-test-other")'; fi
  if [[ "$(jq length "$work/dev-runtimes.json")" -gt 0 ]]; then
    # shellcheck disable=SC2016 # $dev is jq's variable
    write_json --slurpfile dev "$work/dev-runtimes.json" '.runtimes = ((.runtimes // {}) + $dev[0])'
  fi
  if [[ "$(json | jq '.runtimes // {} | length')" == 0 ]]; then write_json 'del(.runtimes)'; fi
  reload_dockerd
  if [[ -d "$work/etc-runvirt" && ! -e /etc/runvirt ]]; then cp -a "$work/etc-runvirt" /etc/runvirt; fi
  # Purging the package removed /var/lib/runvirt/guest, which `make install` also uses.
  if [[ -x "$dev_lib/build-guest-image" && ! -e "$guest_dir/initrd.img" ]]; then
    "$dev_lib/build-guest-image" --agent "$dev_lib/runvirt-agent" --out "$guest_dir" >/dev/null ||
      echo "package-test: could not rebuild the development guest image" >&2
  fi
  rm -rf "$work"
  if [[ $status -eq 0 ]]; then echo "package-test: PASS"; else echo "package-test: FAILED (status $status)" >&2; fi
  exit $status
}
trap restore EXIT

# The names runvirt and kata must be free, or the package (rightly) leaves them alone.
step "setting aside the development runtimes: $(jq -c 'map_values(.path)' "$work/dev-runtimes.json")"
write_json 'del(.runtimes.runvirt, .runtimes.kata)'
# Another key and another runtime (values equal to dockerd's defaults: no change in behaviour).
if [[ "$(json | jq 'has("max-concurrent-uploads")')" == false ]]; then
  write_json '. + {"max-concurrent-uploads": 5}'
  seeded_key=true
fi
if [[ "$(json | jq '.runtimes // {} | has("runvirt-package-test-other")')" == false ]]; then
  write_json '.runtimes = ((.runtimes // {}) + {"runvirt-package-test-other": {"path": "/usr/bin/runc"}})'
  seeded_runtime=true
fi
rm -rf /etc/runvirt
reload_dockerd
json >"$work/before.json"

# The package's own guest kernel is what containers boot; a cloud kernel is the fallback.
guest_kernel=$(cat build/guest-kernel/kernel-version) || fail "no build/guest-kernel/kernel-version"
[[ "$guest_kernel" == *-runvirt ]] || fail "build/guest-kernel is $guest_kernel, not a runvirt guest kernel"
newest_cloud_kernel=$(printf '%s\n' /boot/vmlinuz-*-cloud-amd64 | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
[[ -n "$newest_cloud_kernel" ]] || fail "no Debian cloud kernel in /boot"

expect_installed_state() {
  installed || fail "dpkg does not list runvirt as installed"
  [[ -x /usr/bin/runvirt ]] || fail "/usr/bin/runvirt is missing"
  for f in vmlinux initrd.img kernel-version; do
    [[ -s "$guest_dir/$f" ]] || fail "postinst did not build $guest_dir/$f"
  done
  [[ "$(cat "$guest_dir/kernel-version")" == "$guest_kernel" ]] ||
    fail "guest image built for $(cat "$guest_dir/kernel-version"), not $guest_kernel"
  cmp -s /usr/lib/runvirt/guest-kernel/vmlinux "$guest_dir/vmlinux" || fail "the guest image is not the packaged kernel"
  [[ "$(jq -r '.runtimes.runvirt.path' "$daemon_json")" == /usr/bin/runvirt ]] || fail "runvirt not registered: $(json)"
  [[ "$(jq -r '.runtimes.kata.path' "$daemon_json")" == /usr/bin/runvirt ]] || fail "kata not registered: $(json)"
  json | jq 'del(.runtimes.runvirt, .runtimes.kata)' >"$work/others.json"
  diff -u "$work/before.json" "$work/others.json" || fail "installing changed other keys of $daemon_json"
}

expect_removed_state() {  # WHAT: "remove" or "purge"
  [[ ! -e /usr/bin/runvirt ]] || fail "/usr/bin/runvirt is still there after $1"
  [[ ! -e "$guest_dir" ]] || fail "$guest_dir is still there after $1"
  json >"$work/after.json"
  diff -u "$work/before.json" "$work/after.json" || fail "$daemon_json after $1 differs from before the install"
}

install_package() {
  step "apt-get install $deb"
  apt-get install -y -q "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install failed"; }
  grep -E "registered runtime|dockerd" "$work/install.log" | sed 's/^/  /'
  expect_installed_state
}

# --- 1. install, check, run, kernel hook, purge -----------------------------------------------
install_package

step "runvirt check"
start=$(date +%s.%N)
/usr/bin/runvirt check >"$work/check.txt" 2>&1 || { cat "$work/check.txt"; fail "runvirt check failed"; }
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
sed 's/^/  /' "$work/check.txt"
awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "runvirt check took $took s (limit 10 s)"
grep -Eq '^ok +accelerator: (tcg|kvm): .*hlt probe: .*boot probe: ' "$work/check.txt" ||
  fail "check does not say which accelerator and why"
grep -q "^ok    config: /etc/runvirt/config.toml$" "$work/check.txt" || fail "check does not use the packaged config"
grep -q "^ok    docker: runtimes runvirt, kata -> /usr/bin/runvirt" "$work/check.txt" ||
  fail "check does not see the Docker registration"
step "runvirt check took $took s"

/usr/bin/runvirt env >"$work/env.toml"
grep -q '^config_file = "/etc/runvirt/config.toml"$' "$work/env.toml" || fail "runvirt env: $(cat "$work/env.toml")"
/usr/bin/runvirt env --json | jq -e ".versions.guest_kernel == \"$guest_kernel\"" >/dev/null ||
  fail "runvirt env --json does not name the guest kernel"
[[ -e /usr/share/man/man8/runvirt.8.gz ]] || fail "no man page"

for runtime in kata runvirt; do
  step "docker run --rm --runtime=$runtime busybox uname -r"
  out=$(docker run --rm --runtime="$runtime" busybox uname -r 2>&1) || fail "docker run --runtime=$runtime: $out"
  echo "  $out"
  [[ "$out" == "$guest_kernel" ]] || fail "--runtime=$runtime printed $out, not the guest kernel $guest_kernel"
done
[[ "$(docker run --rm --runtime=runc busybox uname -r)" == "$(uname -r)" ]] || fail "runc does not run on the host kernel"

step "kernel hook: /etc/kernel/postinst.d/zz-runvirt"
[[ -x /etc/kernel/postinst.d/zz-runvirt ]] || fail "the kernel hook is not installed"
touch -d @0 "$guest_dir/initrd.img"
/etc/kernel/postinst.d/zz-runvirt 6.1.0-0-amd64 "/boot/vmlinuz-6.1.0-0-amd64"
[[ "$(stat -c %Y "$guest_dir/initrd.img")" == 0 ]] || fail "the hook rebuilt the image for a non-cloud kernel"
/etc/kernel/postinst.d/zz-runvirt "$newest_cloud_kernel" "/boot/vmlinuz-$newest_cloud_kernel" >/dev/null
[[ "$(stat -c %Y "$guest_dir/initrd.img")" == 0 ]] || fail "the hook replaced the packaged guest kernel's image"
# Without the packaged kernel (the fallback), the hook builds the image from the cloud kernel.
mv /usr/lib/runvirt/guest-kernel "$work/guest-kernel"
/etc/kernel/postinst.d/zz-runvirt "$newest_cloud_kernel" "/boot/vmlinuz-$newest_cloud_kernel" >/dev/null
mv "$work/guest-kernel" /usr/lib/runvirt/guest-kernel
[[ "$(cat "$guest_dir/kernel-version")" == "$newest_cloud_kernel" ]] || fail "the hook did not rebuild the image"
/usr/bin/runvirt check >/dev/null || fail "runvirt check fails after the hook built the cloud kernel's image"
out=$(docker run --rm --runtime=kata busybox uname -r 2>&1) || fail "docker run on the cloud kernel: $out"
[[ "$out" == "$newest_cloud_kernel" ]] || fail "the fallback image booted $out, not $newest_cloud_kernel"
step "the fallback image boots the cloud kernel: $out"

step "apt-get purge runvirt"
purge
! known || fail "dpkg still knows runvirt after purge"
expect_removed_state purge
for f in /etc/runvirt /var/lib/runvirt /etc/kernel/postinst.d/zz-runvirt /usr/lib/runvirt; do
  [[ ! -e "$f" ]] || fail "$f is still there after purge"
done
step "daemon.json after purge = before install: $(jq -c . "$work/after.json")"

# --- 2. install again, remove, purge ----------------------------------------------------------
install_package
step "apt-get remove runvirt"
apt-get remove -y -q runvirt >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "apt-get remove failed"; }
expect_removed_state remove
[[ -e /etc/runvirt/config.toml ]] || fail "remove deleted the conffile /etc/runvirt/config.toml"
/etc/kernel/postinst.d/zz-runvirt "$newest_cloud_kernel" || fail "the hook of a removed runvirt does not exit 0"
[[ ! -e "$guest_dir" ]] || fail "the hook of a removed runvirt rebuilt the image"
purge
[[ ! -e /etc/runvirt ]] || fail "/etc/runvirt is still there after remove + purge"

# --- 3. the rpm has the deb's files and scriptlets ---------------------------------------------
step "rpm vs deb: file list"
# Without each format's own metadata: /usr/share/doc (copyright, changelogs) and lintian's overrides.
metadata='^/usr/share/(doc|lintian)/'
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | grep -Ev "$metadata" | sort >"$work/deb.files"
# --dump: path size mtime digest mode ...; directories (%dir) have mode 040xxx.
rpm -qp --dump "$rpm" 2>/dev/null | awk '$5 !~ /^04/ { print $1 }' | grep -Ev "$metadata" | sort >"$work/rpm.files"
diff -u "$work/deb.files" "$work/rpm.files" || fail "the rpm's files differ from the deb's"
sed 's/^/  /' "$work/rpm.files"

step "rpm vs deb: scriptlets"
dpkg-deb -e "$deb" "$work/control"
rpm -qp --scripts "$rpm" >"$work/rpm.scripts" 2>/dev/null
scriptlet() {  # the rpm scriptlet NAME ("postinstall") without its header
  awk -v name="$1" '/^[a-z]+ scriptlet/ { on = ($1 == name) ; next } on' "$work/rpm.scripts"
}
commands() { grep -oE '/usr/lib/runvirt/host-setup [a-z-]+|rm -rf /var/lib/runvirt' | sort -u; }
compare_scripts() {  # DEB_SCRIPT RPM_SCRIPTLET
  diff <(commands <"$work/control/$1") <(scriptlet "$2" | commands) ||
    fail "deb $1 and rpm %$2 run different commands"
  echo "  $1 = %$2: $(commands <"$work/control/$1" | paste -sd ';')"
}
compare_scripts postinst postinstall
compare_scripts prerm preuninstall
compare_scripts postrm postuninstall
[[ -n "$(commands <"$work/control/postinst")" && -n "$(commands <"$work/control/prerm")" ]] ||
  fail "the scriptlets run no host-setup"
grep -q "/etc/runvirt/config.toml" "$work/control/conffiles" || fail "config.toml is not a conffile"
rpm -qcp "$rpm" 2>/dev/null | grep -q "^/etc/runvirt/config.toml$" || fail "config.toml is not %config in the rpm"

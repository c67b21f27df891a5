#!/usr/bin/env bash
# nspawn_test.sh BUILD_DIR
#
# The Debian package under a real systemd: builds podagent_<version>_amd64.deb
# from BUILD_DIR with cpack, installs it into a minimal Debian root made with
# debootstrap (kept between runs in BUILD_DIR/nspawn/, keyed by the packages
# it holds), boots that root with `systemd-nspawn -b` and checks, inside:
#   - systemd-analyze verify accepts the unit with no warnings;
#   - `systemctl start podagent` returns once the agent is READY (its API
#     answers at once) and `systemctl status` shows it active with a STATUS;
#   - a manifest dropped into /etc/podagent/manifests runs and logs, with an
#     address on the package's default CNI network;
#   - the journal holds the agent's lines at their own priorities (an invalid
#     manifest's error under -p err, the ready line at info);
#   - `systemctl restart podagent` leaves the pod's processes (monitors, pause,
#     the container) running with the same PIDs and restart counts;
#   - SIGSTOP on the agent makes the watchdog restart it, pods untouched;
#   - deleting the manifest removes the pod's processes.
# Exits 77 (skipped) with the reason when the machine cannot run it: not root,
# or debootstrap / systemd-nspawn missing (scripts/setup.sh installs them).
set -euo pipefail

skip() {
  echo "SKIPPED: $*"
  exit 77
}
fail() {
  echo "FAILED: $*" >&2
  if [[ -n "${leader:-}" ]]; then  # what the agent said, to tell why
    echo "--- podagent get pods; journalctl -u podagent (last 60 lines)" >&2
    ct podagent get pods -A >&2 || true
    ct journalctl -u podagent -n 60 --no-pager >&2 || true
  fi
  exit 1
}

[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build="$(cd "$1" && pwd)"
src="$(cd "$(dirname "$0")/../.." && pwd)"
((EUID == 0)) || skip "needs root (debootstrap, systemd-nspawn)"
for tool in debootstrap systemd-nspawn nsenter cpack dpkg-deb chroot pgrep; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/setup.sh installs it)"
done

work="${PODAGENT_NSPAWN_WORK:-$build/nspawn}"
mirror="${PODAGENT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
root="$work/run/root"
mkdir -p "$work"

nspawn_pid=""
leader=""
cleanup() {
  if [[ -n "${PODAGENT_NSPAWN_KEEP:-}" ]]; then  # for a look inside after a failure
    echo "kept: nspawn pid $nspawn_pid, container init $leader, root $root" >&2
    return
  fi
  if [[ -n "$nspawn_pid" ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
    [[ -n "$leader" ]] && kill -KILL "$leader" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  rm -rf "$work/run"
  # The top and QoS cgroups the agent made (empty once its pods are gone).
  if [[ -n "${cgroup_root:-}" ]]; then
    find /sys/fs/cgroup/*/"$cgroup_root" -depth -type d -exec rmdir {} + 2>/dev/null || true
  fi
}
trap cleanup EXIT

# --- the package -----------------------------------------------------------
echo "== building the package"
rm -rf "$work/deb" && mkdir -p "$work/deb"
(cd "$build" && cpack -G DEB -B "$work/deb" >"$work/deb/cpack.log" 2>&1) ||
  { cat "$work/deb/cpack.log"; fail "cpack failed"; }
deb="$(ls "$work"/deb/podagent_*_*.deb)"
echo "package: $(basename "$deb")"

# --- the Debian root: what the package depends on, systemd to boot ----------
# Each dependency's first alternative, without its version.
depends="$(dpkg-deb -f "$deb" Depends),$(dpkg-deb -f "$deb" Recommends)"
packages="$(tr ',' '\n' <<<"$depends" | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' |
  grep -v '^$' | sort -u | tr '\n' ',')systemd,systemd-sysv,dbus"
key="$(printf '%s %s' "$suite" "$packages" | sha256sum | cut -c1-16)"
base="$work/base-$key"
if [[ ! -f "$base/.complete" ]]; then
  echo "== debootstrap $suite ($packages) from $mirror"
  rm -rf "$work"/base-* && mkdir -p "$base"
  debootstrap --variant=minbase --include="$packages" "$suite" "$base" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log"; fail "debootstrap failed"; }
  touch "$base/.complete"
fi

echo "== installing the package into a copy of the root"
rm -rf "$work/run" && mkdir -p "$work/run"
cp -a "$base" "$root"
cp "$deb" "$root/tmp/podagent.deb"
chroot "$root" dpkg -i /tmp/podagent.deb >"$work/run/dpkg.log" 2>&1 ||
  { cat "$work/run/dpkg.log"; fail "dpkg -i failed"; }
grep -qx /etc/podagent/config.yaml "$root/var/lib/dpkg/info/podagent.conffiles" ||
  fail "/etc/podagent/config.yaml is not a conffile"
# The pods are named after this node; the watchdog's limits are shortened so
# that the test does not wait 30 s for it (the mechanism is the unit's own).
sed -i 's/^nodeName: ""/nodeName: nspawn/' "$root/etc/podagent/config.yaml"
# On a cgroup v1 host the container's hierarchies are the host's own: the
# pods' cgroups go under a root of the test's, removed at the end.
cgroup_root="podagent-nspawn-$$"
sed -i "s|^  root: podagent |  root: $cgroup_root |" "$root/etc/podagent/config.yaml"
grep -q "root: $cgroup_root " "$root/etc/podagent/config.yaml" || fail "cannot set cgroups.root"
mkdir -p "$root/etc/systemd/system/podagent.service.d"
printf '[Service]\nWatchdogSec=4s\nTimeoutAbortSec=2s\nRestartSec=1s\n' \
  >"$root/etc/systemd/system/podagent.service.d/10-test.conf"
# The busybox image, made in the root by the packaged script.
chroot "$root" /usr/share/podagent/build-busybox-image.sh /root/busybox.tar >/dev/null

# --- boot ------------------------------------------------------------------
echo "== booting it with systemd-nspawn"
# --register=no --keep-unit: no machined on the host; --private-network: the
# pods' networking stays inside the container; @keyring: runc gives each
# container a session keyring, which nspawn's seccomp filter forbids.
systemd-nspawn -D "$root" --register=no --keep-unit --private-network --machine=podagent-nspawn \
  --system-call-filter=@keyring -b >"$work/run/console.log" 2>&1 &
nspawn_pid=$!

# ct CMD...: runs CMD in the booted container, with a plain environment.
ct() {
  nsenter -t "$leader" -m -u -i -n -p -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
# wait_for SECONDS DESCRIPTION CMD...: polls CMD until it succeeds.
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${seconds}s waiting for: $what"
    sleep 0.2
  done
}
booted() {
  leader="$(pgrep -P "$nspawn_pid" -x systemd || true)"
  [[ -n "$leader" ]] || return 1
  local state
  state="$(ct systemctl is-system-running 2>/dev/null || true)"
  [[ "$state" == running || "$state" == degraded ]]
}
boot_deadline=$((SECONDS + 120))
until booted; do
  if ((SECONDS > boot_deadline)) || ! kill -0 "$nspawn_pid" 2>/dev/null; then
    tail -n 40 "$work/run/console.log"
    fail "the container did not boot"
  fi
  sleep 0.2
done

# On a host with cgroup v1 controllers nspawn mounts them read-only; runc in
# the container needs them writable (cgroup v2 hosts delegate a subtree).
ct sh -c 'for m in /sys/fs/cgroup/*; do
  if grep -q " $m cgroup .*\bro\b" /proc/self/mounts; then mount -o remount,bind,rw "$m"; fi
done'

echo "== systemd-analyze verify"
verify="$(ct systemd-analyze verify /lib/systemd/system/podagent.service 2>&1)" ||
  fail "systemd-analyze verify failed: $verify"
[[ -z "$verify" ]] || fail "systemd-analyze verify warned: $verify"

echo "== systemctl start"
ct podagent image import /root/busybox.tar >/dev/null
ct systemctl start podagent
# Type=notify: start returns after READY=1, when the API already answers.
ct podagent get pods >/dev/null 2>&1 || fail "the API did not answer right after systemctl start"
[[ "$(ct systemctl show -p ActiveState --value podagent)" == active ]] || fail "not active after start"
status="$(ct systemctl status podagent --no-pager 2>&1 || true)"
grep -q 'Active: active (running)' <<<"$status" || fail "systemctl status: $status"
grep -q 'Status: "running 0 of 0 pods"' <<<"$status" || fail "no STATUS line: $status"

echo "== a pod from the manifest directory"
ct sh -c 'cat > /etc/podagent/manifests/hello.yaml' <"$src/examples/hello.yaml"
pod_running() { ct podagent get pods | grep -Eq '^hello-nspawn +1/1 +Running +0 '; }
wait_for 90 "hello-nspawn Running" pod_running
# The package's default CNI network gave it an address.
ct podagent get pods -o wide | grep -Eq '^hello-nspawn .* 10\.85\.[0-9]+\.[0-9]+ ' ||
  fail "the pod has no address on the default network (10.85.0.0/16)"
hello_logged() { ct podagent logs hello-nspawn | grep -qx Hello; }
wait_for 30 "Hello in the pod's log" hello_logged
status_running() { ct systemctl show -p StatusText --value podagent | grep -q '^running 1 of 1 pods'; }
wait_for 30 "STATUS running 1 of 1 pods" status_running

echo "== the journal"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: c}]\n' |
  ct sh -c 'cat > /etc/podagent/manifests/bad.yaml'
# Each line at its own priority, read from its "<N>" prefix, which the
# journal strips: the manifest's problem is a warning, the ready line info.
journal() { ct journalctl -u podagent -o cat --no-pager "$@"; }
bad_logged() { journal -p warning..warning | grep -q '^warning static pods: manifest .*bad.yaml'; }
wait_for 30 "the invalid manifest's warning in the journal" bad_logged
journal -p err | grep -q 'bad.yaml' && fail "a warning shows under journalctl -p err"
journal -p info..info | grep -q '^info podagent ready' ||
  fail "the ready line is not in the journal at info priority"
ct rm /etc/podagent/manifests/bad.yaml

# The pod's processes (the monitors, the pause program, the container's sleep), as
# "pid command".
pod_processes() {
  ct sh -c 'for d in /proc/[0-9]*; do
    c="$(tr "\0" " " < "$d/cmdline" 2>/dev/null)" || continue
    case "$c" in /usr/bin/podagent-monitor\ *|"/pause "|"sleep 3600 ") echo "${d#/proc/} ${c%% *}";; esac
  done' | sort
}
before="$(pod_processes)"
[[ "$(grep -c ' /pause$' <<<"$before")" == 1 ]] || fail "not one sandbox: $before"
grep -q ' sleep$' <<<"$before" || fail "no container process: $before"

echo "== systemctl restart keeps the pod"
ct systemctl restart podagent
[[ "$(ct systemctl show -p ActiveState --value podagent)" == active ]] || fail "not active after restart"
pod_running || fail "the pod is not Running with 0 restarts after the agent's restart"
after="$(pod_processes)"
[[ "$after" == "$before" ]] || fail "the pod's processes changed across the restart: $before -> $after"

echo "== the watchdog restarts a stopped agent"
main="$(ct systemctl show -p MainPID --value podagent)"
restarts="$(ct systemctl show -p NRestarts --value podagent)"
ct sh -c "kill -STOP $main"
restarted() {
  local now
  now="$(ct systemctl show -p MainPID --value podagent)"
  [[ "$now" != 0 && "$now" != "$main" ]] &&
    [[ "$(ct systemctl show -p ActiveState --value podagent)" == active ]]
}
wait_for 60 "the watchdog to restart the agent" restarted
[[ "$(ct systemctl show -p NRestarts --value podagent)" == $((restarts + 1)) ]] ||
  fail "NRestarts did not go up by one"
# journald stores systemd's message asynchronously: it may come after the
# restart is visible.
watchdog_logged() { journal | grep -q 'Watchdog timeout'; }
wait_for 30 "the watchdog timeout in the journal" watchdog_logged
pod_running || fail "the pod is not Running with 0 restarts after the watchdog's restart"
after="$(pod_processes)"
[[ "$after" == "$before" ]] || fail "the pod's processes changed across the watchdog restart"

echo "== deleting the manifest removes the pod"
ct rm /etc/podagent/manifests/hello.yaml
pod_gone() { [[ -z "$(pod_processes)" ]] && ! ct podagent get pods | grep -q hello-nspawn; }
wait_for 60 "the pod's processes to go" pod_gone
ct systemctl stop podagent

echo "PASSED"

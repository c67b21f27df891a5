#!/usr/bin/env bash
# The README's run command: installs what is needed, builds podagent
# (optimised, in build/, kept between runs), imports a busybox image (made
# from the busybox-static package, no network) into the agent's image store,
# and runs `podagent run` in the foreground with the embedded defaults: the
# oci backend, runc and podagent-monitor, and the default CNI bridge network
# (installed into /etc/podagent/cni/ when that holds no network). Arguments
# are passed to `podagent run` and `podagent image import` (configuration
# flags such as --config FILE, --state-dir DIR, --log-level debug). Stop it
# with Ctrl-C: pods keep running and the next start adopts them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

build_dir="${PODAGENT_BUILD_DIR:-build}"
jobs="$(nproc)"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

# The same build directory and type as scripts/test.sh, so that neither
# rebuilds what the other built.
if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$build_dir" -j "$jobs" podagent podagent-pause podagent-private-mounts podagent-monitor

# A first pod works offline: `image: busybox` (examples/hello.yaml).
image="$build_dir/busybox-image.tar"
if [[ ! -f "$image" ]]; then
  bash scripts/build-busybox-image.sh "$image.tmp" docker.io/library/busybox:latest
  mv "$image.tmp" "$image"
fi
"$build_dir/agent/podagent" image import "$image" "$@"

# The manifest directory of the defaults; podagent only reads it.
if [[ ! -d /etc/podagent/manifests ]]; then
  if ! mkdir -p /etc/podagent/manifests 2>/dev/null; then
    echo "run.sh: cannot create /etc/podagent/manifests (not root?)" >&2
  fi
fi

# The default pod network (config/cni/: bridge podagent0 holding 10.85.0.1,
# so that the node reaches its pods and their host ports; host-local
# addresses on 10.85.0.0/16; no default route in the pods, no masquerade)
# when the CNI directory of the defaults holds no network yet; one already
# there is left as it is.
cni_dir=/etc/podagent/cni
if ! compgen -G "$cni_dir/*.conflist" >/dev/null && ! compgen -G "$cni_dir/*.conf" >/dev/null &&
  ! compgen -G "$cni_dir/*.json" >/dev/null; then
  if ! { mkdir -p "$cni_dir" && install -m 0644 config/cni/10-podagent-bridge.conflist "$cni_dir/"; } 2>/dev/null; then
    echo "run.sh: cannot install the default network into $cni_dir (not root?): pods get loopback only" >&2
  fi
fi

exec "$build_dir/agent/podagent" run "$@"

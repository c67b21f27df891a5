#!/usr/bin/env bash
# The README's run command: installs what is needed, builds podagent
# (optimised, in build/, kept between runs), imports a busybox image (made
# from the busybox-static package, no network) into the agent's image store,
# and runs `podagent run` in the foreground with the embedded defaults: the
# oci backend, runc and conmon. Arguments are passed to `podagent run` and
# `podagent image import` (configuration flags such as --config FILE,
# --state-dir DIR, --log-level debug). Stop it with Ctrl-C: pods keep running
# and the next start adopts them.
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
ninja -C "$build_dir" -j "$jobs" podagent podagent-pause

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

exec "$build_dir/agent/podagent" run "$@"

#!/usr/bin/env bash
# The README's run command: installs what is needed, builds podagent
# (optimised, in build/, kept between runs) and runs `podagent run` in the
# foreground with the embedded defaults. Arguments are passed to `podagent
# run` (e.g. --log-level debug, --config FILE). Stop it with Ctrl-C.
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
ninja -C "$build_dir" -j "$jobs" podagent

# The manifest directory of the defaults; podagent only reads it.
if [[ ! -d /etc/podagent/manifests ]]; then
  if ! mkdir -p /etc/podagent/manifests 2>/dev/null; then
    echo "run.sh: cannot create /etc/podagent/manifests (not root?)" >&2
  fi
fi

exec "$build_dir/agent/podagent" run "$@"

#!/usr/bin/env bash
# Builds the Debian package podagent_<version>_<arch>.deb (optimised, without
# tests or benchmarks, in build-pkg/) and prints its path. Install it on a
# node with `apt-get install ./build-pkg/podagent_*.deb`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

dir="${PODAGENT_PKG_DIR:-build-pkg}"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
if [[ ! -f "$dir/build.ninja" ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPODAGENT_TESTS=OFF -DPODAGENT_BENCH=OFF
fi
ninja -C "$dir" -j "$(nproc)"
(cd "$dir" && cpack -G DEB >/dev/null)
ls "$PWD/$dir"/podagent_*.deb

#!/usr/bin/env bash
# Builds the benchmarks in Release (-O2) into build-release/ and runs every
# bench/*_bench.cc program, printing its figures. Nothing is asserted: the
# figures and their targets are compared by a person (see bench/README.md).
#
#   scripts/bench.sh            # every bench with its default arguments
#   PODAGENT_BENCH_DIR=dir scripts/bench.sh
#
# The build directory and ccache are kept, so a second run is quick. Run it
# on an otherwise idle machine: wall-clock figures move with the load (the
# benches print CPU time beside them where it matters).
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${PODAGENT_BENCH_DIR:-build-release}"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
if [[ ! -f "$dir/build.ninja" ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPODAGENT_TESTS=OFF -DPODAGENT_BENCH=ON
fi

benches=()
for src in bench/*_bench.cc; do
  benches+=("$(basename "$src" .cc)")
done
if [[ ${#benches[@]} -eq 0 ]]; then
  echo "no benches in bench/"
  exit 0
fi
ninja -C "$dir" -j "$(nproc)" "${benches[@]}"

status=0
for b in "${benches[@]}"; do
  echo "== $b"
  if ! "$dir/bench/$b"; then
    echo "== $b FAILED"
    status=1
  fi
done
exit "$status"

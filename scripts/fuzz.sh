#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs manifest_fuzz for a bounded
# time on a scratch copy of the seed corpus.
#
#   scripts/fuzz.sh [build-dir] [seconds]     (defaults: build-fuzz, 60)
#
# Exits non-zero when the fuzzer finds a crash, a leak, a timeout or runs out
# of memory; the reproducer is then left in the scratch directory it names.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-build-fuzz}"
seconds="${2:-60}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPODAGENT_FUZZ=ON -DPODAGENT_TESTS=OFF -DPODAGENT_BENCH=OFF >/dev/null
ninja -C "$build" -j2 manifest_fuzz

work="$(mktemp -d "${TMPDIR:-/tmp}/manifest_fuzz.XXXXXX")"
cp -r "$root/tests/fuzz/corpus" "$work/corpus"
echo "fuzzing for ${seconds}s in $work"

status=0
(cd "$work" && "$build/tests/fuzz/manifest_fuzz" corpus -max_total_time="$seconds" \
  -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) || status=$?

if [ "$status" -ne 0 ] || compgen -G "$work/crash-*" >/dev/null || compgen -G "$work/leak-*" >/dev/null ||
   compgen -G "$work/timeout-*" >/dev/null || compgen -G "$work/oom-*" >/dev/null; then
  echo "manifest_fuzz found a problem (exit $status); reproducers in $work:" >&2
  ls "$work" >&2
  exit 1
fi
rm -rf "$work"
echo "manifest_fuzz: no findings in ${seconds}s"

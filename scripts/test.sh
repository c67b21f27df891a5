#!/usr/bin/env bash
# The README's test command: installs what is needed, then builds and runs
# every test suite:
#   1. build/       RelWithDebInfo (shared with scripts/run.sh), ctest
#   2. build-asan/  Debug with AddressSanitizer + UndefinedBehaviorSanitizer, ctest
#   3. build-fuzz/  the libFuzzer target for a bounded time (scripts/fuzz.sh)
# and ends with one line "N passed, N failed" (tests over all suites; a build
# or fuzz run that fails counts as one failure). Exits non-zero on any failure.
# Build directories and ccache are kept, so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

build_dir="${PODAGENT_BUILD_DIR:-build}"
asan_dir="${PODAGENT_ASAN_DIR:-build-asan}"
fuzz_dir="${PODAGENT_FUZZ_DIR:-build-fuzz}"
fuzz_seconds="${PODAGENT_FUZZ_SECONDS:-60}"
jobs="$(nproc)"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
# Sanitizer findings fail the test that triggers them.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# build_and_test NAME DIR CMAKE_ARGS...: configures (once), builds everything
# and runs ctest, adding the counts of ctest's summary line
# ("NN% tests passed, F tests failed out of M") to the totals.
build_and_test() {
  local name="$1" dir="$2"
  shift 2
  echo "== $name: build ($dir)"
  if [[ ! -f "$dir/build.ninja" ]] && ! cmake -S . -B "$dir" -G Ninja "$@"; then
    echo "== $name: configure FAILED"
    failed=$((failed + 1))
    return
  fi
  # -k 0: a target that does not build still lets the others build and run
  # their tests (its own show up as not run, and the build counts as failed).
  if ! ninja -C "$dir" -j "$jobs" -k 0; then
    echo "== $name: build FAILED"
    failed=$((failed + 1))
  fi
  echo "== $name: test"
  local status=0
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j 2 2>&1 | tee "$log" || status=$?
  local summary
  summary="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
  if [[ -z "$summary" ]]; then
    echo "== $name: ctest gave no summary (status $status)"
    failed=$((failed + 1))
    return
  fi
  local f m
  f="$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")"
  m="$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")"
  passed=$((passed + m - f))
  failed=$((failed + f))
  if ((f == 0 && status != 0)); then  # ctest failed without failing a test
    failed=$((failed + 1))
  fi
}

build_and_test "tests" "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
build_and_test "sanitizers" "$asan_dir" -DCMAKE_BUILD_TYPE=Debug -DPODAGENT_SANITIZE=ON -DPODAGENT_BENCH=OFF

if [[ -f scripts/fuzz.sh ]]; then
  echo "== fuzz: ${fuzz_seconds}s ($fuzz_dir)"
  if bash scripts/fuzz.sh "$fuzz_dir" "$fuzz_seconds"; then
    passed=$((passed + 1))
  else
    echo "== fuzz: FAILED"
    failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))

#!/usr/bin/env bash
# The test suite on a busy machine (issue 15): runs `cargo test` (the
# README's command) while one CPU-bound process per core keeps every core
# occupied at the same priority as the tests, RUNS times in a row (default
# 1). A test that passes only on a quiet machine (a thread's post that must
# beat a timer, a speed-up that needs idle cores) fails here.
#
# Usage: .ci/under-load.sh [RUNS]      (called once by .ci/run)
# Logs: target/under-load/run-N.log
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-1}
case $runs in
  '' | *[!0-9]*)
    echo "error: RUNS must be a positive whole number, got '$runs'" >&2
    exit 2
    ;;
esac
out=target/under-load
mkdir -p "$out"

# Build first, on a quiet machine: the load is for the tests, and compiling
# under it only makes the run longer.
cargo test --no-run --quiet

cores=$(nproc 2>/dev/null || echo 2)
busy=()
stop_busy() {
  if [ ${#busy[@]} != 0 ]; then
    kill "${busy[@]}" 2>/dev/null || true
    wait "${busy[@]}" 2>/dev/null || true
  fi
  busy=()
}
trap stop_busy EXIT

for i in $(seq 1 "$runs"); do
  for _ in $(seq 1 "$cores"); do
    # A pure CPU spinner; `exec` so that killing the pid stops the spin.
    bash -c 'exec awk "BEGIN { while (1) x++ }"' &
    busy+=($!)
  done
  start=$SECONDS
  status=0
  cargo test --no-fail-fast >"$out/run-$i.log" 2>&1 || status=$?
  stop_busy
  passed=$(grep -o 'test result: ok\. [0-9]* passed' "$out/run-$i.log" |
    awk '{ n += $4 } END { print n + 0 }')
  if [ "$status" != 0 ]; then
    echo "under load, run $i/$runs: FAILED after $((SECONDS - start)) s ($out/run-$i.log):"
    grep -E '^(---- |thread .* panicked|watchdog:|failures:|    [a-z_:]+$|error: test failed)' \
      "$out/run-$i.log" | head -60 || true
    exit 1
  fi
  echo "under load, run $i/$runs: ok, $passed tests in $((SECONDS - start)) s with $cores busy processes"
done

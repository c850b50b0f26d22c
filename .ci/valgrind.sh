#!/usr/bin/env bash
# Leak and memory-error check (issue 10): a representative subset of the test
# suite, and a short soak, under valgrind's memcheck. Fails on any definite
# leak and on any memory error (invalid read or write, use of uninitialised
# memory, bad free). "Possibly lost" blocks are not errors: the test harness's
# own threads leave some.
#
# The subset covers the unsafe code and the loop's drop paths:
# - the lib unit tests: `SmallFn` inline and boxed closures with their drop
#   counts (src/rt/callback.rs), the executor's borrowed poll waker
#   (src/rt/executor/waker.rs), the timer wheel and its prefetch (src/rt/timer/wheel.rs);
# - tests/suite/loop_behaviour.rs, tests/suite/executor.rs,
#   tests/suite/futures_behaviour.rs, tests/node/node_async.rs,
#   tests/node/node_order.rs, tests/suite/virtual_time.rs,
#   tests/suite/trace.rs, tests/suite/embed.rs: every
#   callback kind, tasks and wakers (cloned, woken from other threads), loops
#   dropped with timers, immediates, tasks and posts pending;
# - tests/suite/worker.rs, tests/node/fs.rs, tests/suite/net_smoke.rs:
#   threads, the pool, the reactor and sockets;
# - tests/node/emitter.rs: listeners added, removed and dropped during emits;
# - tests/suite/reliability.rs: a loop dropped with one of everything pending,
#   panics in every kind of callback, faults from the outside world;
# - tests/soak.rs for 3 s (every subsystem at once, then a clean shutdown).
# tests/node/net.rs is left out: it takes over two minutes under valgrind;
# so are the rest of the `suite` binary (the model check, the stress tests,
# the suite's rules) and the `examples` binary.
#
# Those files are modules of the grouped test binaries `suite` and `node`
# (issue 16): each is run on its own, as before, by its module's name
# (`suite loop_behaviour::` runs only the tests of
# tests/suite/loop_behaviour.rs), so each still has its own log, time and
# leak summary.
#
# `node_outputs_are_current` is skipped here: it checks Node's output, not
# evloop, and `cargo test` runs it.
#
# No test of evloop's is skipped: those that once depended on real time
# (issue 15) now check their order on virtual time and lower bounds on real
# time, so they hold at valgrind's speed too.
#
# Usage: .ci/valgrind.sh (called by .ci/run). Logs: target/valgrind/.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind not found: installing the Debian package valgrind"
  if [ "$(id -u)" = 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "error: valgrind is not installed, and installing it needs root or" \
      "password-less sudo; install the Debian package valgrind" \
      "(apt-get install valgrind) and run again" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: valgrind is not installed and there is no apt-get to install" \
      "it with; install valgrind and run again" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq valgrind
  command -v valgrind >/dev/null 2>&1 || {
    echo "error: apt-get install valgrind did not provide valgrind" >&2
    exit 1
  }
fi
echo "$(valgrind --version)"

# The test binaries these runs use: the lib's unit tests (evloop), the
# grouped binaries tests/suite/ and tests/node/, and tests/soak.rs.
targets=(--lib --test suite --test node --test soak)

out=target/valgrind
mkdir -p "$out"
# The tests' watchdogs (60 s each) and their waits scale by this.
export EVLOOP_TEST_SLOWDOWN=20

# Build the test binaries and find their paths (one JSON line per artifact).
cargo test --no-run --message-format=json "${targets[@]}" >"$out/build.json"
declare -A exe
while IFS= read -r path; do
  name=$(basename "$path")
  exe[${name%-*}]=$path
done < <(grep -o '"executable":"[^"]*"' "$out/build.json" | cut -d'"' -f4)
failed=()

# run NAME BINARY [test-binary arguments...]: logs in $out/NAME.{log,out}
run() {
  local name=$1 binary=$2
  shift 2
  local bin=${exe[$binary]:-}
  if [ -z "$bin" ]; then
    echo "error: no test binary found for $binary" >&2
    exit 1
  fi
  local start=$SECONDS status=0
  valgrind --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --error-exitcode=1 --num-callers=40 \
    --log-file="$out/$name.log" \
    "$bin" --test-threads=1 "$@" >"$out/$name.out" 2>&1 || status=$?
  local lost errors
  lost=$(grep -o 'definitely lost: .*' "$out/$name.log" | head -1 || true)
  if [ -z "$lost" ] && grep -q 'no leaks are possible' "$out/$name.log"; then
    lost="definitely lost: 0 bytes (all heap blocks freed)"
  fi
  errors=$(grep -o 'ERROR SUMMARY: [0-9]* errors' "$out/$name.log" | tail -1 || true)
  printf '%-18s %4ss  %s  %s  %s\n' "$name" $((SECONDS - start)) \
    "$(grep -o 'test result: [a-z]*\. [0-9]* passed; [0-9]* failed' "$out/$name.out" | tail -1 || true)" \
    "${lost:-leak summary missing}" "${errors:-error summary missing}"
  if [ "$status" != 0 ]; then
    failed+=("$name")
    if [ "$status" = 1 ]; then
      echo "--- $name: valgrind found errors or definite leaks ($out/$name.log):"
      grep -v '^==[0-9]*== *$' "$out/$name.log" | sed -n '/Invalid\|uninitialised\|definitely lost in\|Mismatched\|free/,+25p' | head -150 || true
    else
      echo "--- $name: the tests failed (exit $status) under valgrind ($out/$name.out):"
      grep -v '^test .* ok$' "$out/$name.out" | tail -60 || true
    fi
  fi
}

start=$SECONDS
run evloop evloop
run loop_behaviour suite loop_behaviour::
run executor suite executor::
run futures_behaviour suite futures_behaviour::
run node_async node node_async:: --skip node_outputs_are_current
run node_order node node_order:: --skip node_outputs_are_current
run virtual_time suite virtual_time::
run trace suite trace::
run embed suite embed::
run worker suite worker::
run fs node fs::
run net_smoke suite net_smoke::
# (No child processes: valgrind lacks pidfd_open.)
run futures_io suite futures_io:: --skip child
run emitter node emitter::
run reliability suite reliability::
# The soak's RSS bar is off: valgrind's own memory is in the process's RSS.
EVLOOP_SOAK_SECS=3 EVLOOP_SOAK_RSS=0 run soak soak --nocapture
grep -E '^  [a-z]+: ' "$out/soak.out" || true
echo "valgrind: $((SECONDS - start)) s in all"

if [ ${#failed[@]} != 0 ]; then
  echo "valgrind check failed: ${failed[*]}" >&2
  exit 1
fi

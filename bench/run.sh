#!/usr/bin/env bash
# The side-by-side benchmark suite: evloop, Node and tokio (current-thread)
# on every workload of examples/bench.rs, interleaved, one JSON line per run.
#
#   bench/run.sh            REPS (default 3) full runs of every workload for
#                           every system; lines go to
#                           bench/results/results-DATE.jsonl, the summary to
#                           bench/RESULTS.md (charts in bench/charts/)
#   bench/run.sh --smoke    every workload once with a tiny n, no waiting
#                           for a quiet machine (well under a minute once built)
#   bench/run.sh --summarize bench/results/results-DATE.jsonl
#                           only (re)write the summary of an earlier run
#
# Environment:
#   REPS=3                  repetitions (order: rep -> workload -> system)
#   WORKLOADS="a b"         only these workloads (default: `bench list`)
#   SYSTEMS="evloop node tokio"   only these systems
#   RUN_TIMEOUT=300         seconds before a run is killed (recorded as an error)
#   BUSY_MAX=0.5            a run starts once other processes keep fewer than
#   BUSY_WAIT=30            BUSY_MAX cores busy, or after BUSY_WAIT seconds
#   OUT=path.jsonl          where to append the lines (default above)
#   SUMMARY=path.md         where to write the summary (default: bench/RESULTS.md
#                           for a full run of everything, else next to OUT)
#   TOKIO_BUILD_TIMEOUT=600 seconds allowed for building bench/tokio
#
# A run that fails, times out or cannot start is recorded as a JSON line with
# an "error" field, never as a zero. Each line also gets "rep" and
# "machine_busy" (cores kept busy by other processes in the second before
# the run started).
set -u
# The whole script is one compound command, read before it starts, so editing
# this file while a long run is going cannot change what that run does.
{
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SMOKE=0
ONLY_SUMMARY=""
case "${1:-}" in
  --smoke) SMOKE=1 ;;
  --summarize)
    ONLY_SUMMARY=${2:?usage: bench/run.sh --summarize RESULTS.jsonl}
    ;;
  "") ;;
  -h | --help)
    sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: bench/run.sh [--smoke | --summarize RESULTS.jsonl]" >&2
    exit 2
    ;;
esac

REPS=${REPS:-3}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
BUSY_MAX=${BUSY_MAX:-0.5}
BUSY_WAIT=${BUSY_WAIT:-30}
TOKIO_BUILD_TIMEOUT=${TOKIO_BUILD_TIMEOUT:-600}
if [ "$SMOKE" = 1 ]; then
  REPS=1
  BUSY_WAIT=0
  RUN_TIMEOUT=${RUN_TIMEOUT_SMOKE:-60}
fi
ALL_SYSTEMS="evloop node tokio"
SYSTEMS=${SYSTEMS:-$ALL_SYSTEMS}
STAMP=$(date +%Y%m%d-%H%M%S)
mkdir -p bench/results
if [ "$SMOKE" = 1 ]; then
  OUT=${OUT:-bench/results/smoke-$STAMP.jsonl}
else
  OUT=${OUT:-bench/results/results-$STAMP.jsonl}
fi
if [ -n "$ONLY_SUMMARY" ] && [ ! -f "$ONLY_SUMMARY" ]; then
  echo "bench/run.sh: $ONLY_SUMMARY: no such file" >&2
  exit 2
fi
mkdir -p "$(dirname "$OUT")"
[ -n "$ONLY_SUMMARY" ] || : >>"$OUT"

EVLOOP_BIN=$ROOT/target/release/examples/bench
SUMMARY_BIN=$ROOT/target/release/examples/bench_summary
TOKIO_BIN=$ROOT/bench/tokio/target/release/evloop-bench-tokio
NODE_SCRIPT=$ROOT/bench/node/bench.js

log() { echo "bench: $*" >&2; }

# A string as JSON string contents: backslashes, quotes and control characters.
json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '%s' "$s" | tr '\n\r\t' '   ' | tr -d '\000-\037'
}

# ---------------------------------------------------------------- build
log "building evloop's bench and bench_summary (release)"
if ! cargo build --release --example bench --example bench_summary >&2; then
  log "evloop's benchmark program does not build; giving up"
  exit 1
fi

if [ -n "$ONLY_SUMMARY" ]; then
  OUT=$ONLY_SUMMARY
  REPS=$(grep -o '"rep":[0-9]*' "$OUT" | sort -u | wc -l)
fi

NODE_ERR=""
if [ -n "$ONLY_SUMMARY" ]; then
  :
elif [[ " $SYSTEMS " == *" node "* ]]; then
  if ! command -v node >/dev/null 2>&1; then
    NODE_ERR="node not found"
    log "$NODE_ERR: node runs are recorded as errors"
  fi
fi

TOKIO_ERR=""
if [ -n "$ONLY_SUMMARY" ]; then
  :
elif [[ " $SYSTEMS " == *" tokio "* ]]; then
  log "building bench/tokio (release)"
  tokio_log=$(mktemp)
  (cd bench/tokio && timeout "$TOKIO_BUILD_TIMEOUT" cargo build --release --locked) 2>"$tokio_log"
  rc=$?
  if [ $rc -ne 0 ] || [ ! -x "$TOKIO_BIN" ]; then
    if [ $rc -eq 124 ]; then
      TOKIO_ERR="tokio build timed out after $TOKIO_BUILD_TIMEOUT s"
    else
      TOKIO_ERR="tokio build failed: $(grep -m1 -E '^error' "$tokio_log" || tail -n1 "$tokio_log")"
    fi
    log "$TOKIO_ERR: tokio runs are recorded as errors"
  fi
  rm -f "$tokio_log"
fi

# Run private copies: another `cargo build` in this tree (a developer, CI)
# must not swap a binary in the middle of the run.
BIN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/evloop-bench-bin.XXXXXX")
trap 'rm -rf "$BIN_DIR"' EXIT
cp "$EVLOOP_BIN" "$BIN_DIR/bench" && EVLOOP_BIN=$BIN_DIR/bench
cp "$SUMMARY_BIN" "$BIN_DIR/bench_summary" && SUMMARY_BIN=$BIN_DIR/bench_summary
if [ -z "$TOKIO_ERR" ] && [ -x "$TOKIO_BIN" ]; then
  cp "$TOKIO_BIN" "$BIN_DIR/evloop-bench-tokio" && TOKIO_BIN=$BIN_DIR/evloop-bench-tokio
fi

if [ -n "${WORKLOADS:-}" ]; then
  read -r -a WORKLOAD_LIST <<<"$WORKLOADS"
else
  mapfile -t WORKLOAD_LIST < <("$EVLOOP_BIN" list | awk '{print $1}')
fi
read -r -a SYSTEM_LIST <<<"$SYSTEMS"

# The n for a smoke run: enough to exercise the workload, small enough to
# keep the whole pass short.
smoke_n() {
  case "$1" in
    timers_fire) echo 200 ;; # delays still reach 1 s
    fs_small) echo 200 ;;
    fs_big) echo 1 ;;
    wake_latency) echo 200 ;;
    tcp_echo) echo 1000 ;;
    spawn_true) echo 20 ;;
    pipe_throughput) echo 4 ;; # MiB
    *) echo 1000 ;;
  esac
}

# ---------------------------------------------------------------- quiet machine
# Cores kept busy over one second, from /proc/stat (none of ours runs then).
busy_cores() {
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 1
  read -r -a b < <(grep '^cpu ' /proc/stat)
  awk -v n="$(nproc)" -v a="${a[*]:1}" -v b="${b[*]:1}" 'BEGIN {
    split(a, x, " "); split(b, y, " "); tot = 0
    for (i = 1; i <= 8; i++) tot += y[i] - x[i]
    idle = (y[4] - x[4]) + (y[5] - x[5])
    printf "%.2f", (tot > 0 ? (tot - idle) / tot * n : 0)
  }'
}

MACHINE_BUSY=0
wait_for_quiet() {
  if [ "$BUSY_WAIT" -le 0 ]; then
    MACHINE_BUSY=null
    return
  fi
  local start=$SECONDS
  while :; do
    MACHINE_BUSY=$(busy_cores)
    if awk -v b="$MACHINE_BUSY" -v m="$BUSY_MAX" 'BEGIN { exit !(b < m) }'; then
      return
    fi
    if [ $((SECONDS - start)) -ge "$BUSY_WAIT" ]; then
      log "machine still busy ($MACHINE_BUSY cores) after ${BUSY_WAIT}s; running anyway"
      return
    fi
  done
}

# ---------------------------------------------------------------- one run
# Prints the run's JSON line (with rep and machine_busy added) on stdout.
emit() { # LINE REP
  local line=$1 rep=$2
  [[ "$MACHINE_BUSY" =~ ^[0-9]+(\.[0-9]+)?$ ]] || MACHINE_BUSY=null
  printf '%s\n' "${line%\}},\"rep\":$rep,\"machine_busy\":$MACHINE_BUSY}"
}

error_line() { # WORKLOAD SYSTEM N MESSAGE
  printf '{"workload":"%s","system":"%s","n":%s,"error":"%s"}' \
    "$1" "$2" "${3:-null}" "$(json_escape "$4")"
}

# Runs CMD... under the timeout; sets RUN_LINE to its JSON line or an error line.
run_cmd() { # WORKLOAD SYSTEM N CMD...
  local w=$1 s=$2 n=$3
  shift 3
  local out err rc line
  out=$(mktemp)
  err=$(mktemp)
  timeout -k 10 "$RUN_TIMEOUT" "$@" >"$out" 2>"$err"
  rc=$?
  line=$(grep '^{' "$out" | tail -n1)
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    RUN_LINE=$(error_line "$w" "$s" "$n" "timed out after $RUN_TIMEOUT s")
  elif [ -n "$line" ] && [[ "$line" == *'"error":'* ]]; then
    RUN_LINE=$line
  elif [ $rc -ne 0 ] || [ -z "$line" ]; then
    local why
    why=$(grep -v '^\s*$' "$err" | grep -m1 -iE 'panicked|error' || grep -v '^\s*$' "$err" | tail -n1)
    RUN_LINE=$(error_line "$w" "$s" "$n" "exit code $rc${line:+ after printing a result}${why:+: $why}")
  else
    RUN_LINE=$line
  fi
  rm -f "$out" "$err"
}

# tcp_echo against a peer's server: start it, read `PORT PID`, drive it with
# evloop's load client, stop it. Sets RUN_LINE.
run_peer_echo() { # SYSTEM N SERVER_CMD...
  local s=$1 n=$2
  shift 2
  local srv_out port pid spid line
  srv_out=$(mktemp)
  "$@" echo_server >"$srv_out" 2>/dev/null &
  spid=$!
  for _ in $(seq 100); do
    [ "$(wc -l <"$srv_out")" -ge 1 ] && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  read -r port pid <"$srv_out"
  if [[ "$port" =~ ^[0-9]+$ ]] && [[ "$pid" =~ ^[0-9]+$ ]]; then
    run_cmd tcp_echo "$s" "$n" env "EVLOOP_ECHO_TARGET=$port:$pid" "$EVLOOP_BIN" tcp_echo "$n"
    RUN_LINE=${RUN_LINE/\"system\":\"evloop\"/\"system\":\"$s\"}
  else
    RUN_LINE=$(error_line tcp_echo "$s" "$n" "$s echo_server did not print PORT PID")
  fi
  kill "$spid" 2>/dev/null
  wait "$spid" 2>/dev/null
  rm -f "$srv_out"
}

run_one() { # SYSTEM WORKLOAD REP
  local s=$1 w=$2 rep=$3 n=""
  [ "$SMOKE" = 1 ] && n=$(smoke_n "$w")
  local nj=${n:-null}
  case "$s" in
    evloop)
      wait_for_quiet
      # shellcheck disable=SC2086
      run_cmd "$w" "$s" "$nj" "$EVLOOP_BIN" "$w" $n
      ;;
    node | tokio)
      local cmd unavailable
      if [ "$s" = node ]; then
        cmd=(node "$NODE_SCRIPT")
        unavailable=$NODE_ERR
      else
        cmd=("$TOKIO_BIN")
        unavailable=$TOKIO_ERR
      fi
      if [ -n "$unavailable" ]; then
        MACHINE_BUSY=null
        RUN_LINE=$(error_line "$w" "$s" "$nj" "$unavailable")
      elif [ "$w" = tcp_echo ]; then
        wait_for_quiet
        run_peer_echo "$s" "${n:-100000}" "${cmd[@]}"
      else
        wait_for_quiet
        # shellcheck disable=SC2086
        run_cmd "$w" "$s" "$nj" "${cmd[@]}" "$w" $n
      fi
      ;;
    *)
      MACHINE_BUSY=null
      RUN_LINE=$(error_line "$w" "$s" "$nj" "unknown system $s")
      ;;
  esac
  emit "$RUN_LINE" "$rep" | tee -a "$OUT"
}

# ---------------------------------------------------------------- machine
machine_info() {
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- CPU: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "- Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "- Kernel: $(uname -sr)"
  echo "- Node: $(node --version 2>/dev/null || echo 'not found')"
  echo "- rustc: $(rustc --version)"
  echo "- tokio: $(awk '/name = "tokio"/ {getline; gsub(/[^0-9.]/, ""); print}' bench/tokio/Cargo.lock) (current-thread runtime, \`enable_all\`)"
  local dirty=""
  [ -n "$(git status --porcelain -- src Cargo.toml 2>/dev/null)" ] && dirty=" with uncommitted changes in src/"
  echo "- evloop: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$dirty"
  echo "- Reps: $REPS, interleaved (rep → workload → system); a run waits up to ${BUSY_WAIT} s for other processes to keep fewer than $BUSY_MAX cores busy"
  echo "- Raw lines: \`$OUT\`"
}
MACHINE_FILE=${OUT%.jsonl}.machine.md
[ -n "$ONLY_SUMMARY" ] || machine_info >"$MACHINE_FILE"

# ---------------------------------------------------------------- the runs
[ -n "$ONLY_SUMMARY" ] || log "writing $OUT (reps=$REPS, workloads: ${WORKLOAD_LIST[*]}, systems: ${SYSTEM_LIST[*]})"
for rep in $([ -n "$ONLY_SUMMARY" ] || seq "$REPS"); do
  for w in "${WORKLOAD_LIST[@]}"; do
    for s in "${SYSTEM_LIST[@]}"; do
      log "rep $rep/$REPS: $w on $s"
      run_one "$s" "$w" "$rep"
    done
  done
done

# ---------------------------------------------------------------- summary
if [ -z "${SUMMARY:-}" ]; then
  if [ -n "$ONLY_SUMMARY" ]; then
    case "$(basename "$OUT")" in
      results-*.jsonl) SUMMARY=bench/RESULTS.md ;;
      *) SUMMARY=${OUT%.jsonl}.md ;;
    esac
  elif [ "$SMOKE" = 0 ] && [ -z "${WORKLOADS:-}" ] && [ "$SYSTEMS" = "$ALL_SYSTEMS" ]; then
    SUMMARY=bench/RESULTS.md
  else
    SUMMARY=${OUT%.jsonl}.md
  fi
fi
if [ "$SUMMARY" = bench/RESULTS.md ]; then
  charts=charts
else
  charts=$(basename "${SUMMARY%.md}")-charts
fi
out_abs=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
summary_dir=$(dirname "$SUMMARY")
{
  echo "# Benchmark results: evloop beside Node and tokio"
  echo
  echo "Written by \`bench/run.sh\`; see \`bench/README.md\` for how to read it."
  echo
  if [ -f "$MACHINE_FILE" ]; then
    cat "$MACHINE_FILE"
  else
    echo "(The machine the run was on was not recorded; this one summarised it:)"
    machine_info
  fi
  echo
  (cd "$summary_dir" && "$SUMMARY_BIN" "$out_abs" "$charts")
} >"$SUMMARY.tmp" && mv "$SUMMARY.tmp" "$SUMMARY"
log "summary: $SUMMARY (charts in $summary_dir/$charts)"
exit 0
}

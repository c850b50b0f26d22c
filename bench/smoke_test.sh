#!/usr/bin/env bash
# Smoke test of the benchmark suite: runs `bench/run.sh --smoke` into a
# temporary directory and checks that every workload produced one valid JSON
# line per system, without an "error" field, and that the summary and charts
# were written. Not part of `cargo test` (it needs release builds, Node and
# the tokio project, which `cargo test` must not compile).
#
# Skips (exit 0, with the reason printed) when node is missing; leaves tokio
# out, with the reason printed, when bench/tokio does not build (offline
# without a cargo cache, say) within TOKIO_BUILD_TIMEOUT seconds (default 300).
set -u
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "bench smoke test: SKIPPED: node not found"
  exit 0
fi

systems="evloop node tokio"
build_log=$(mktemp)
if ! (cd bench/tokio && timeout "${TOKIO_BUILD_TIMEOUT:-300}" cargo build --release --locked) >"$build_log" 2>&1; then
  echo "bench smoke test: leaving tokio out: bench/tokio did not build:"
  grep -m3 -E '^(error|warning: spurious)' "$build_log" || tail -n3 "$build_log"
  systems="evloop node"
fi
rm -f "$build_log"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
start=$SECONDS
if ! SYSTEMS="$systems" OUT="$dir/smoke.jsonl" SUMMARY="$dir/smoke.md" \
  timeout 600 bench/run.sh --smoke >"$dir/stdout" 2>"$dir/stderr"; then
  echo "bench smoke test: bench/run.sh --smoke failed:"
  tail -n 20 "$dir/stderr"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "bench smoke test: run.sh --smoke took $((SECONDS - start)) s (builds included)"

mapfile -t workloads < <(target/release/examples/bench list | awk '{print $1}')

# Every check below prints "ok ..." or "FAIL ...".
node - "$dir/smoke.jsonl" "$dir/smoke.md" "$dir/smoke-charts" "${workloads[*]}" "$systems" <<'EOF'
const fs = require('fs');
const [file, md, charts, workloads, systems] = process.argv.slice(2);
const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
let pass = 0;
let fail = 0;
const ok = (cond, what) => {
  if (cond) pass++;
  else fail++;
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
};
const runs = [];
for (const l of lines) {
  try {
    runs.push(JSON.parse(l));
  } catch (e) {
    ok(false, `line is JSON: ${l}`);
  }
}
for (const w of workloads.split(' ')) {
  for (const s of systems.split(' ')) {
    const mine = runs.filter((r) => r.workload === w && r.system === s);
    const r = mine[0];
    const good =
      mine.length === 1 &&
      r.error === undefined &&
      r.seconds > 0 &&
      r.n > 0 &&
      r.peak_rss_kb > 0 &&
      typeof r.cpu_seconds === 'number';
    let why = '';
    if (mine.length !== 1) why = ` (${mine.length} lines)`;
    else if (r.error !== undefined) why = ` (error: ${r.error})`;
    else if (!good) why = ` (${JSON.stringify(r)})`;
    ok(good, `${w} on ${s}${why}`);
  }
}
const summary = fs.existsSync(md) ? fs.readFileSync(md, 'utf8') : '';
ok(summary.includes('## Overview'), 'summary written');
for (const w of workloads.split(' ')) {
  ok(summary.includes(`| ${w} |`), `summary has a row for ${w}`);
}
const svgs = fs.existsSync(charts) ? fs.readdirSync(charts).filter((f) => f.endsWith('.svg')) : [];
ok(svgs.length >= 5, `charts written (${svgs.join(', ')})`);
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail === 0 ? 0 : 1);
EOF

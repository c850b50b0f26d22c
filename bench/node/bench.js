#!/usr/bin/env node
// The Node side of evloop's benchmark suite: each workload of
// examples/bench.rs, done with Node's own API.
//
//   node bench/node/bench.js WORKLOAD [N]   one JSON line, "system":"node"
//   node bench/node/bench.js list           the workloads
//   node bench/node/bench.js echo_server    prints `PORT PID`, echoes on 127.0.0.1
//
// The tcp_echo load comes from evloop's client
// (EVLOOP_ECHO_TARGET=PORT:PID bench tcp_echo), as bench/run.sh does.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const { Worker } = require('worker_threads');

const SYSTEM = 'node';

// ---------------------------------------------------------------------------
// Workloads. Each is an async function of n returning the extra fields
// ({seconds?, setup_seconds?, fields: [[name, value], ...]}) or throwing.

function check(what, got, want) {
  if (got !== want) throw new Error(`${what}: ${got} of ${want} callbacks ran`);
  return {};
}

// Each immediate schedules the next: one loop turn per callback.
function immediateChain(n) {
  return new Promise((resolve) => {
    let count = 0;
    function step() {
      count++;
      if (count < n) setImmediate(step);
      else resolve(check('immediate_chain', count, n));
    }
    setImmediate(step);
  });
}

// n immediates queued up front, then run; the last bumps the counter to n.
function immediateBulk(n) {
  return new Promise((resolve) => {
    let count = 0;
    const bump = () => {
      if (++count === n) resolve(check('immediate_bulk', count, n));
    };
    for (let i = 0; i < n; i++) setImmediate(bump);
  });
}

// xorshift32 on a u32, as in examples/bench.rs.
function xorshift32(state) {
  let x = state.x;
  x = (x ^ (x << 13)) >>> 0;
  x = (x ^ (x >>> 17)) >>> 0;
  x = (x ^ (x << 5)) >>> 0;
  state.x = x;
  return x;
}

// n timers over 0..=1000 ms, each bumping a counter; judged by CPU.
function timersFire(n) {
  return new Promise((resolve) => {
    let count = 0;
    let setup = 0;
    const bump = () => {
      if (++count === n) {
        const extra = check('timers_fire', count, n);
        extra.setup_seconds = setup;
        resolve(extra);
      }
    };
    const t0 = process.hrtime.bigint();
    const rng = { x: 12345 };
    for (let i = 0; i < n; i++) setTimeout(bump, xorshift32(rng) % 1001);
    setup = Number(process.hrtime.bigint() - t0) / 1e9;
  });
}

// n timers 10 s + 0..=1000 ms out, then all cleared.
function timersCancel(n) {
  return new Promise((resolve, reject) => {
    let fired = 0;
    const bump = () => fired++;
    const rng = { x: 12345 };
    const timers = new Array(n);
    for (let i = 0; i < n; i++) timers[i] = setTimeout(bump, 10000 + (xorshift32(rng) % 1001));
    for (let i = 0; i < n; i++) clearTimeout(timers[i]);
    // Let the loop see the emptied timer lists before declaring done.
    setImmediate(() => {
      if (fired !== 0) reject(new Error(`${fired} cancelled timers fired`));
      else resolve({});
    });
  });
}

// n tasks that each suspend once, then awaited together.
async function tasks(n) {
  async function t(i) {
    await null;
    return i;
  }
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = t(i);
  const values = await Promise.all(ps);
  let sum = 0;
  for (const v of values) sum += v;
  return check('tasks', sum, (n * (n - 1)) / 2);
}

// A promise-based channel with one slot: send resolves once the value is in
// the slot (or handed to a waiting receiver); recv resolves with the next
// value, or undefined once closed and drained.
class Channel {
  constructor() {
    this.slot = [];
    this.receiver = null;
    this.senders = [];
    this.closed = false;
  }
  send(v) {
    if (this.closed) return Promise.reject(new Error('channel closed'));
    if (this.receiver) {
      const r = this.receiver;
      this.receiver = null;
      r(v);
      return Promise.resolve();
    }
    if (this.slot.length === 0) {
      this.slot.push(v);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.senders.push([v, resolve]));
  }
  recv() {
    if (this.slot.length > 0) {
      const v = this.slot.shift();
      if (this.senders.length > 0) {
        const [sv, resolve] = this.senders.shift();
        this.slot.push(sv);
        resolve();
      }
      return Promise.resolve(v);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.receiver = resolve;
    });
  }
  close() {
    this.closed = true;
    if (this.receiver) {
      const r = this.receiver;
      this.receiver = null;
      r(undefined);
    }
  }
}

// Two tasks bouncing a value over two one-slot channels.
async function pingpong(n) {
  const ping = new Channel();
  const pong = new Channel();
  const echo = (async () => {
    let v;
    while ((v = await ping.recv()) !== undefined) await pong.send(v + 1);
  })();
  let v = 0;
  for (let i = 0; i < n; i++) {
    await ping.send(v);
    v = await pong.recv();
    if (v === undefined) throw new Error('echo task ended');
  }
  ping.close();
  await echo;
  return check('pingpong', v, n);
}

// Two UDP sockets on 127.0.0.1 bounce a 32-byte datagram n times.
async function udpPingpong(n) {
  const dgram = require('dgram');
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  await new Promise((resolve) => a.bind(0, '127.0.0.1', resolve));
  await new Promise((resolve) => b.bind(0, '127.0.0.1', resolve));
  const bPort = b.address().port;
  b.on('message', (msg, rinfo) => b.send(msg, rinfo.port, rinfo.address));
  let count = 0;
  await new Promise((resolve) => {
    a.on('message', (msg) => {
      if (++count === n) resolve();
      else a.send(msg, bPort, '127.0.0.1');
    });
    a.send(Buffer.alloc(32), bPort, '127.0.0.1');
  });
  a.close();
  b.close();
  return check('udp_pingpong', count, n);
}

// Spawn /bin/true with stdio ignored and wait for its 'exit', n times in
// sequence.
async function spawnTrue(n) {
  const { spawn } = require('child_process');
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const code = await new Promise((resolve, reject) => {
      const child = spawn('/bin/true', [], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code === 0) ok++;
  }
  return check('spawn_true', ok, n);
}

// A child `cat` of an n MiB file (made before timing) read to the end
// through its stdout pipe ('data' events).
async function pipeThroughput(n) {
  const { spawn } = require('child_process');
  const dir = scratch('pipe_throughput');
  try {
    const file = path.join(dir, 'big.bin');
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < n; i++) fs.writeSync(fd, chunk);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const t0 = process.hrtime.bigint();
    const total = await new Promise((resolve, reject) => {
      const child = spawn('cat', [file], { stdio: ['ignore', 'pipe', 'inherit'] });
      let total = 0;
      child.on('error', reject);
      child.stdout.on('data', (c) => {
        total += c.length;
      });
      child.on('close', () => resolve(total));
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    check('pipe_throughput bytes', total, n * (1 << 20));
    return { seconds, fields: [['mib_per_sec', n / seconds]] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The process sends itself SIGUSR2 (process.kill) and waits for its
// process.on('SIGUSR2') listener, n times; latency from kill to listener.
// Signal listeners do not keep Node's loop alive: a long timer does.
function signalLatency(n) {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const samples = [];
    let t = 0n;
    const onSignal = () => {
      samples.push(Number(process.hrtime.bigint() - t) / 1e3);
      if (samples.length < n) {
        t = process.hrtime.bigint();
        process.kill(process.pid, 'SIGUSR2');
        return;
      }
      process.off('SIGUSR2', onSignal);
      clearInterval(keepAlive);
      samples.sort((a, b) => a - b);
      const pct = (p) => samples[Math.floor((samples.length - 1) * p)];
      check('signal_latency', samples.length, n);
      resolve({ fields: [['median_us', pct(0.5)], ['p99_us', pct(0.99)]] });
    };
    process.on('SIGUSR2', onSignal);
    t = process.hrtime.bigint();
    process.kill(process.pid, 'SIGUSR2');
  });
}

// Await an already-resolved promise, n times.
async function awaitLoop(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await Promise.resolve(i);
  return check('await_loop', sum, (n * (n - 1)) / 2);
}

// One task yielding n times (evloop's yield_now is `await null`).
async function yieldChain(n) {
  let count = 0;
  for (let i = 0; i < n; i++) {
    await null;
    count++;
  }
  return check('yield_chain', count, n);
}

function scratch(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `node-bench-${name}-`));
}

// 2,000 files of 4 KiB (made before timing) read concurrently with
// fs.promises.readFile; n reads in rounds of 2,000.
async function fsSmall(n) {
  const FILES = 2000;
  const dir = scratch('fs_small');
  try {
    const count = Math.min(FILES, n);
    const names = [];
    const data = Buffer.alloc(4096, 'x');
    for (let i = 0; i < count; i++) {
      const p = path.join(dir, `f${i}.txt`);
      fs.writeFileSync(p, data);
      names.push(p);
    }
    const rounds = Math.ceil(n / FILES);
    const t0 = process.hrtime.bigint();
    let total = 0;
    for (let r = 0; r < rounds; r++) {
      const bufs = await Promise.all(names.map((p) => fs.promises.readFile(p)));
      for (const b of bufs) total += b.length;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const reads = rounds * count;
    check('fs_small bytes', total, reads * 4096);
    return { seconds, fields: [['us_per_file', (seconds * 1e6) / reads]] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// One 64 MiB file read whole n times in sequence with fs.promises.readFile;
// each read is followed by an fs.readFileSync of the same file (Node's
// nearest thing to evloop's std::fs::read comparison). Reports medians.
async function fsBig(n) {
  const SIZE = 64 << 20;
  const dir = scratch('fs_big');
  try {
    const p = path.join(dir, 'big.bin');
    fs.writeFileSync(p, Buffer.alloc(SIZE, 7));
    const ours = [];
    const sync = [];
    for (let i = 0; i < n; i++) {
      let t = process.hrtime.bigint();
      let v = await fs.promises.readFile(p);
      ours.push(Number(process.hrtime.bigint() - t) / 1e9);
      if (v.length !== SIZE) throw new Error(`read ${v.length} of ${SIZE} bytes`);
      v = null;
      t = process.hrtime.bigint();
      v = fs.readFileSync(p);
      sync.push(Number(process.hrtime.bigint() - t) / 1e9);
      v = null;
    }
    const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const total = ours.reduce((a, b) => a + b, 0);
    const m = median(ours);
    const s = median(sync);
    const mib = SIZE / (1 << 20);
    return {
      seconds: total,
      fields: [
        ['ms_per_read', m * 1e3],
        ['mib_per_sec', mib / m],
        ['sync_ms_per_read', s * 1e3],
        ['sync_mib_per_sec', mib / s],
      ],
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// A Worker posts to the main thread and waits for the reply, n times.
function wakeLatency(n) {
  const src = `
    const { parentPort, workerData } = require('worker_threads');
    const n = workerData;
    const samples = new Float64Array(n);
    let i = 0;
    let t = 0n;
    function probe() {
      t = process.hrtime.bigint();
      parentPort.postMessage(0);
    }
    parentPort.on('message', () => {
      samples[i++] = Number(process.hrtime.bigint() - t) / 1e3;
      if (i < n) probe();
      else { parentPort.postMessage(samples); parentPort.close(); }
    });
    probe();
  `;
  return new Promise((resolve, reject) => {
    const w = new Worker(src, { eval: true, workerData: n });
    w.on('message', (m) => {
      if (typeof m === 'number') {
        w.postMessage(0);
        return;
      }
      const s = Array.from(m).sort((a, b) => a - b);
      const pct = (p) => s[Math.floor((s.length - 1) * p)];
      resolve({ fields: [['median_us', pct(0.5)], ['p99_us', pct(0.99)]] });
    });
    w.on('error', reject);
    w.on('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });
}

async function tcpEcho() {
  throw new Error(
    'run `echo_server` and drive it with evloop\'s client ' +
      '(EVLOOP_ECHO_TARGET=PORT:PID bench tcp_echo), as bench/run.sh does',
  );
}

// `echo_server`: prints `PORT PID`, then echoes on 127.0.0.1 until killed or
// for 120 s.
function echoServer() {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${server.address().port} ${process.pid}\n`);
  });
  setTimeout(() => process.exit(0), 120000);
}

const WORKLOADS = [
  ['immediate_chain', 1000000, immediateChain],
  ['immediate_bulk', 1000000, immediateBulk],
  ['timers_fire', 1000000, timersFire],
  ['timers_cancel', 1000000, timersCancel],
  ['tasks', 1000000, tasks],
  ['pingpong', 1000000, pingpong],
  ['await_loop', 1000000, awaitLoop],
  ['yield_chain', 1000000, yieldChain],
  ['fs_small', 10000, fsSmall],
  ['fs_big', 10, fsBig],
  ['wake_latency', 100000, wakeLatency],
  ['tcp_echo', 100000, tcpEcho],
  ['udp_pingpong', 100000, udpPingpong],
  ['spawn_true', 500, spawnTrue],
  ['pipe_throughput', 256, pipeThroughput],
  ['signal_latency', 1000, signalLatency],
];

// ---------------------------------------------------------------------------

function jsonString(s) {
  return JSON.stringify(String(s));
}

function fail(name, message, code) {
  process.stdout.write(
    `{"workload":${jsonString(name)},"system":"${SYSTEM}","error":${jsonString(message)}}\n`,
  );
  process.exitCode = code;
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function main() {
  const args = process.argv.slice(2);
  const name = args[0] || 'list';
  if (name === 'echo_server') return echoServer();
  if (name === 'list') {
    for (const [w, n] of WORKLOADS) console.log(`${w} (default n = ${n})`);
    return;
  }
  const entry = WORKLOADS.find((w) => w[0] === name);
  if (!entry) return fail(name, 'unknown workload', 2);
  let n = entry[1];
  if (args[1] !== undefined) {
    n = Number(args[1]);
    if (!Number.isSafeInteger(n) || n <= 0) return fail(name, 'n must be a positive integer', 2);
  }
  const cpu0 = cpuSeconds();
  const t0 = process.hrtime.bigint();
  let extra;
  try {
    extra = await entry[2](n);
  } catch (e) {
    return fail(name, e && e.message ? e.message : String(e), 1);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds() - cpu0;
  const seconds = extra.seconds !== undefined ? extra.seconds : wall;
  let line =
    `{"workload":"${name}","system":"${SYSTEM}","n":${n},"seconds":${seconds.toFixed(6)},` +
    `"ops_per_sec":${(n / seconds).toFixed(1)},"peak_rss_kb":${process.resourceUsage().maxRSS},` +
    `"cpu_seconds":${cpu.toFixed(6)}`;
  if (extra.setup_seconds !== undefined) line += `,"setup_seconds":${extra.setup_seconds.toFixed(6)}`;
  for (const [k, v] of extra.fields || []) line += `,"${k}":${v.toFixed(3)}`;
  process.stdout.write(line + '}\n');
}

main();

//! Soak (issue 10): one loop kept busy for a while with everything at once,
//! then shut down cleanly, checking that every operation completed exactly
//! once and that memory did not grow.
//!
//! For the whole run the loop has
//! - 10,000 timers pending at all times: each one re-arms its slot when it
//!   fires (delays from 0 to 500 ms), and one firing in eight also clears a
//!   pending timer of another slot and re-arms that slot;
//! - 200 TCP connections on loopback, server and clients on the loop (the
//!   callback `net` API), each doing echo round trips of 1 to 4096 bytes, one
//!   at a time, every echoed byte checked;
//! - a saturated thread pool: 4 threads and 32 operations in flight at all
//!   times (`queue_work` jobs that block for 2 to 6 ms, `fs::write_file`,
//!   `fs::read_file` of what was written), so jobs always wait for a thread;
//! - 2 workers, each with 16 messages in flight, answering every message.
//!
//! At the deadline nothing new starts: timers fire out, clients end their
//! connections after their current round trip, the server closes, pool slots
//! finish their operation, and each worker is told to close its port. The
//! loop must then exit by itself with its tables empty. Counted: timers
//! scheduled = fired + cleared, each fired once and never after a clear;
//! bytes and round trips sent = echoed; pool operations queued = completed;
//! worker messages sent = answered, in order.
//!
//! No time is checked: a busy machine (or valgrind) makes the loop late, so
//! the timers' lateness and the pool's queue figures are printed, never
//! asserted, and every count above holds however late the loop runs.
//!
//! Memory: RSS (`VmRSS`) is sampled every 250 ms; the RSS at the deadline,
//! still under full load, must be within 10% of the RSS at the end of the
//! warm-up (half the run, at least 1 s), when every structure has reached
//! its working size. A counting global allocator also reports the live heap
//! (bytes allocated and not freed), which tells a real growth from the
//! allocator's noise.
//!
//! `EVLOOP_SOAK_SECS` sets the duration (default 8 s; CI uses the default).
//! `EVLOOP_SOAK_RSS=0` turns the RSS bar off, for runs under valgrind, whose
//! own memory is in the process's RSS; the figures are still printed.
//! `cargo test --release --test soak -- --nocapture` shows the figures.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use evloop::net::{self, Server, Socket};
use evloop::{EventLoop, ParentPort, Timer, Worker, fs, queue_work, set_interval, set_timeout};

/// Counts live heap bytes, to tell real growth from allocator noise.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_BLOCKS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged and only counts what
// succeeded.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
            LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const TIMERS: usize = 10_000;
/// Delays in ms; 0 is clamped to 1, as in Node.
const DELAYS: [u64; 10] = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500];
/// One timer firing in `CLEAR_EVERY` clears another slot's pending timer.
const CLEAR_EVERY: u64 = 8;
const CONNECTIONS: usize = 200;
const MAX_MESSAGE: usize = 4096;
const POOL_THREADS: usize = 4;
const POOL_IN_FLIGHT: usize = 32;
const WORKERS: usize = 2;
const WORKER_IN_FLIGHT: u64 = 16;
/// Tells a worker to close its port.
const BYE: u64 = u64::MAX;
const SAMPLE_MS: u64 = 250;
const RSS_BAR: f64 = 0.10;

struct Config {
    secs: f64,
    warmup_secs: f64,
    check_rss: bool,
}

impl Config {
    fn from_env() -> Config {
        // Default 8 s; warm-up half of it. A level-1 slot of the timer wheel
        // comes round every 4.1 s, so by then every structure has been
        // through its working sizes.
        let secs = match std::env::var("EVLOOP_SOAK_SECS") {
            Ok(s) => s
                .parse::<f64>()
                .ok()
                .filter(|s| *s >= 1.0)
                .expect("EVLOOP_SOAK_SECS: a number of seconds, at least 1"),
            Err(_) => 8.0,
        };
        let check_rss = std::env::var("EVLOOP_SOAK_RSS").map_or(true, |v| v != "0");
        Config {
            secs,
            warmup_secs: (secs / 2.0).max(1.0),
            check_rss,
        }
    }
}

/// xorshift64*: deterministic, and enough to mix delays and sizes.
struct Rng(Cell<u64>);

impl Rng {
    fn next(&self) -> u64 {
        let mut x = self.0.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Memory at one moment of the run.
#[derive(Clone, Copy, Debug)]
struct Memory {
    /// Seconds since the start.
    at: f64,
    /// Resident set (`VmRSS`), KiB.
    rss_kib: u64,
    /// Heap allocated and not yet freed, by the counting allocator.
    heap_bytes: usize,
    heap_blocks: usize,
}

impl Memory {
    fn now(at: f64) -> Memory {
        Memory {
            at,
            rss_kib: rss_kib(),
            heap_bytes: LIVE_BYTES.load(Ordering::Relaxed),
            heap_blocks: LIVE_BLOCKS.load(Ordering::Relaxed),
        }
    }
}

/// The process's resident set (`VmRSS`), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

#[derive(Default)]
struct TimerSlot {
    /// Bumped each time the slot is armed; a firing timer must carry the
    /// slot's current generation (else it fired twice or after a clear).
    generation: u32,
    pending: Option<Timer>,
    deadline: u64,
}

#[derive(Default)]
struct TimerStats {
    scheduled: Cell<u64>,
    fired: Cell<u64>,
    cleared: Cell<u64>,
    pending: Cell<u64>,
    /// Largest (loop time at firing − deadline), ms.
    max_late: Cell<u64>,
}

struct Conn {
    /// The message in flight and how much of it has come back.
    message: Vec<u8>,
    echoed: usize,
    round_trips: u64,
}

#[derive(Default)]
struct NetStats {
    connected: Cell<u64>,
    round_trips: Cell<u64>,
    bytes_sent: Cell<u64>,
    bytes_echoed: Cell<u64>,
    server_read: Cell<u64>,
    server_written: Cell<u64>,
    client_closed: Cell<u64>,
    server_closed: Cell<u64>,
    errors: Cell<u64>,
    server_close_cb: Cell<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PoolOp {
    Work,
    Write,
    Read,
}

struct PoolSlot {
    next: PoolOp,
    /// The operation in flight (its number), if any.
    in_flight: Option<u64>,
    /// What the last write put in this slot's file.
    written: Vec<u8>,
}

#[derive(Default)]
struct PoolStats {
    queued: Cell<u64>,
    completed: Cell<u64>,
    work: Cell<u64>,
    writes: Cell<u64>,
    reads: Cell<u64>,
    in_flight: Cell<usize>,
    /// Sum and count of the pool's queue length (jobs waiting for a thread)
    /// at each sample, and its minimum.
    queued_sum: Cell<u64>,
    queued_min: Cell<usize>,
    /// The same for jobs running on a thread.
    running_sum: Cell<u64>,
    running_min: Cell<usize>,
    samples: Cell<u64>,
}

struct WorkerSlot {
    worker: Worker<u64, u64>,
    sent: u64,
    answered: u64,
    bye: bool,
}

#[derive(Default)]
struct WorkerStats {
    sent: Cell<u64>,
    answered: Cell<u64>,
    exited: Cell<u64>,
}

struct Soak {
    cfg: Config,
    rng: Rng,
    stopping: Cell<bool>,
    started: Instant,
    timer_slots: RefCell<Vec<TimerSlot>>,
    timers: TimerStats,
    server: RefCell<Option<Server>>,
    conns: RefCell<Vec<Conn>>,
    net: NetStats,
    dir: PathBuf,
    pool_slots: RefCell<Vec<PoolSlot>>,
    pool: PoolStats,
    next_op: Cell<u64>,
    workers: RefCell<Vec<WorkerSlot>>,
    worker_stats: WorkerStats,
    /// (seconds since start, RSS KiB) every `SAMPLE_MS`.
    samples: RefCell<Vec<Memory>>,
    warm: Cell<Option<Memory>>,
    end: Cell<Option<Memory>>,
    sampler: Cell<Option<Timer>>,
    /// Invariants checked at each sample while running; a broken one is
    /// recorded here (a panic in a callback would hide the figures).
    violations: RefCell<Vec<String>>,
}

impl Soak {
    fn violation(&self, what: String) {
        let mut v = self.violations.borrow_mut();
        if v.len() < 20 {
            v.push(what);
        }
    }
}

// ---------------------------------------------------------------------------
// Timers

fn arm_timer(st: &Rc<Soak>, slot: usize) {
    let delay = DELAYS[st.rng.below(DELAYS.len() as u64) as usize];
    let mut slots = st.timer_slots.borrow_mut();
    let s = &mut slots[slot];
    s.generation += 1;
    let generation = s.generation;
    let me = st.clone();
    s.pending = Some(set_timeout(delay, move || {
        timer_fired(&me, slot, generation)
    }));
    s.deadline = evloop::now() + delay.max(1);
    let t = &st.timers;
    t.scheduled.set(t.scheduled.get() + 1);
    t.pending.set(t.pending.get() + 1);
}

fn timer_fired(st: &Rc<Soak>, slot: usize, generation: u32) {
    let t = &st.timers;
    {
        let mut slots = st.timer_slots.borrow_mut();
        let s = &mut slots[slot];
        if s.generation != generation || s.pending.is_none() {
            drop(slots);
            st.violation(format!(
                "timer slot {slot}: generation {generation} fired, but the slot is at \
                 generation {} (fired twice or after being cleared)",
                st.timer_slots.borrow()[slot].generation
            ));
            return;
        }
        s.pending = None;
        let late = evloop::now().saturating_sub(s.deadline);
        t.max_late.set(t.max_late.get().max(late));
    }
    t.fired.set(t.fired.get() + 1);
    t.pending.set(t.pending.get() - 1);
    if st.stopping.get() {
        return;
    }
    arm_timer(st, slot);
    if st.rng.below(CLEAR_EVERY) == 0 {
        let other = st.rng.below(TIMERS as u64) as usize;
        let victim = st.timer_slots.borrow_mut()[other].pending.take();
        if let Some(timer) = victim {
            timer.clear();
            t.cleared.set(t.cleared.get() + 1);
            t.pending.set(t.pending.get() - 1);
            arm_timer(st, other);
        }
    }
}

// ---------------------------------------------------------------------------
// TCP

fn start_net(st: &Rc<Soak>) {
    let me = st.clone();
    let server = net::create_server(move |socket: Socket| {
        socket
            .set_no_delay(true)
            .expect("TCP_NODELAY on an accepted socket");
        let s = socket.clone();
        let m = me.clone();
        socket.on_data(move |chunk| {
            let n = &m.net;
            n.server_read.set(n.server_read.get() + chunk.len() as u64);
            s.write(chunk.to_vec());
        });
        let m = me.clone();
        socket.on_error(move |e| {
            m.violation(format!("server socket error: {e}"));
            m.net.errors.set(m.net.errors.get() + 1);
        });
        let m = me.clone();
        let s = socket.clone();
        socket.on_close(move |_| {
            let n = &m.net;
            n.server_written
                .set(n.server_written.get() + s.bytes_written());
            n.server_closed.set(n.server_closed.get() + 1);
            maybe_close_server(&m);
        });
    });
    let addr = server.listen("127.0.0.1:0").expect("listen on loopback");
    *st.server.borrow_mut() = Some(server);
    for id in 0..CONNECTIONS {
        st.conns.borrow_mut().push(Conn {
            message: Vec::new(),
            echoed: 0,
            round_trips: 0,
        });
        let m = st.clone();
        let socket = net::connect(addr, move || {
            m.net.connected.set(m.net.connected.get() + 1);
        })
        .expect("connect to loopback");
        socket.set_no_delay(true).expect("TCP_NODELAY");
        let m = st.clone();
        let s = socket.clone();
        socket.on_data(move |chunk| client_data(&m, &s, id, chunk));
        let m = st.clone();
        socket.on_error(move |e| {
            m.violation(format!("client {id}: error {e}"));
            m.net.errors.set(m.net.errors.get() + 1);
        });
        let m = st.clone();
        socket.on_close(move |_| {
            m.net.client_closed.set(m.net.client_closed.get() + 1);
            maybe_close_server(&m);
        });
        send_message(st, &socket, id);
    }
}

fn send_message(st: &Soak, socket: &Socket, id: usize) {
    let len = 1 + st.rng.below(MAX_MESSAGE as u64) as usize;
    let mut conns = st.conns.borrow_mut();
    let c = &mut conns[id];
    let salt = (id as u64).wrapping_mul(31) ^ c.round_trips.wrapping_mul(7);
    c.message = (0..len as u64).map(|k| (salt + k) as u8).collect();
    c.echoed = 0;
    st.net.bytes_sent.set(st.net.bytes_sent.get() + len as u64);
    socket.write(c.message.clone());
}

fn client_data(st: &Rc<Soak>, socket: &Socket, id: usize, chunk: &[u8]) {
    let done = {
        let mut conns = st.conns.borrow_mut();
        let c = &mut conns[id];
        let end = c.echoed + chunk.len();
        if end > c.message.len() || c.message[c.echoed..end] != *chunk {
            drop(conns);
            st.violation(format!("client {id}: echo differs from what was sent"));
            socket.destroy();
            return;
        }
        c.echoed = end;
        if c.echoed == c.message.len() {
            c.round_trips += 1;
            true
        } else {
            false
        }
    };
    st.net
        .bytes_echoed
        .set(st.net.bytes_echoed.get() + chunk.len() as u64);
    if done {
        st.net.round_trips.set(st.net.round_trips.get() + 1);
        if st.stopping.get() {
            socket.end();
        } else {
            send_message(st, socket, id);
        }
    }
}

fn maybe_close_server(st: &Rc<Soak>) {
    let n = &st.net;
    if n.client_closed.get() == CONNECTIONS as u64 && n.server_closed.get() == CONNECTIONS as u64 {
        let server = st.server.borrow_mut().take();
        if let Some(server) = server {
            let m = st.clone();
            server.close(move || m.net.server_close_cb.set(m.net.server_close_cb.get() + 1));
        }
    }
}

// ---------------------------------------------------------------------------
// Thread pool

/// What a blocking job computes from its number (checked on the loop).
fn job_value(op: u64) -> u64 {
    (0..64u64).fold(op, |acc, k| {
        acc.rotate_left(5) ^ k.wrapping_mul(0x9e37_79b9)
    })
}

fn next_pool_op(st: &Rc<Soak>, slot: usize) {
    let op = st.next_op.get();
    st.next_op.set(op + 1);
    let kind = {
        let mut slots = st.pool_slots.borrow_mut();
        let s = &mut slots[slot];
        assert!(s.in_flight.is_none(), "pool slot {slot} busy");
        s.in_flight = Some(op);
        s.next
    };
    let p = &st.pool;
    p.queued.set(p.queued.get() + 1);
    p.in_flight.set(p.in_flight.get() + 1);
    let path = st.dir.join(format!("slot-{slot}"));
    let me = st.clone();
    match kind {
        PoolOp::Work => {
            // Blocks its thread for 2 to 6 ms, as a blocking call would:
            // long enough that the pool, not the busy loop, is the
            // bottleneck, so jobs always wait for a thread.
            let micros = 2000 + st.rng.below(4000);
            let _ = queue_work(
                move || {
                    // sleep: stands for a blocking call's duration; what is
                    // checked (each op completes once, with its value) does
                    // not depend on how long it takes.
                    std::thread::sleep(Duration::from_micros(micros));
                    job_value(op)
                },
                move |result| {
                    let ok = result.as_ref().ok() == Some(&job_value(op));
                    pool_done(&me, slot, op, ok, "queue_work");
                    me.pool.work.set(me.pool.work.get() + 1);
                },
            );
        }
        PoolOp::Write => {
            let len = 1 + st.rng.below(8192) as usize;
            let data: Vec<u8> = (0..len as u64).map(|k| (op ^ k) as u8).collect();
            st.pool_slots.borrow_mut()[slot].written = data.clone();
            fs::write_file(path, data, move |result| {
                pool_done(&me, slot, op, result.is_ok(), "fs::write_file");
                me.pool.writes.set(me.pool.writes.get() + 1);
            });
        }
        PoolOp::Read => fs::read_file(path, move |result| {
            let ok = matches!(&result, Ok(data) if *data == me.pool_slots.borrow()[slot].written);
            pool_done(&me, slot, op, ok, "fs::read_file");
            me.pool.reads.set(me.pool.reads.get() + 1);
        }),
    }
}

fn pool_done(st: &Rc<Soak>, slot: usize, op: u64, ok: bool, what: &str) {
    if !ok {
        st.violation(format!(
            "pool slot {slot}: {what} (op {op}) failed or returned a wrong result"
        ));
    }
    {
        let mut slots = st.pool_slots.borrow_mut();
        let s = &mut slots[slot];
        if s.in_flight != Some(op) {
            drop(slots);
            st.violation(format!(
                "pool slot {slot}: op {op} completed twice or out of turn"
            ));
            return;
        }
        s.in_flight = None;
        s.next = match s.next {
            PoolOp::Work => PoolOp::Write,
            PoolOp::Write => PoolOp::Read,
            PoolOp::Read => PoolOp::Work,
        };
    }
    let p = &st.pool;
    p.completed.set(p.completed.get() + 1);
    p.in_flight.set(p.in_flight.get() - 1);
    if !st.stopping.get() {
        next_pool_op(st, slot);
    } else if p.in_flight.get() == 0 {
        let me = st.clone();
        fs::rm(st.dir.clone(), true, move |r| {
            if let Err(e) = r {
                me.violation(format!("removing the soak directory: {e}"));
            }
        });
    }
}

// ---------------------------------------------------------------------------
// Workers

/// The worker's answer to message `n`.
fn answer(n: u64) -> u64 {
    n.wrapping_mul(3) ^ 0x5a5a
}

fn start_workers(st: &Rc<Soak>) {
    for w in 0..WORKERS {
        let worker = Worker::spawn(|port: ParentPort<u64, u64>| {
            let reply = port.clone();
            port.on_message(move |&n| {
                if n == BYE {
                    reply.close();
                } else {
                    reply.post_message(answer(n)).expect("parent alive");
                }
            });
        });
        let me = st.clone();
        worker.on_message(move |&a| worker_answered(&me, w, a));
        let me = st.clone();
        worker.on_error(move |e| me.violation(format!("worker {w}: {e}")));
        let me = st.clone();
        worker.on_exit(move |code| {
            if code != 0 {
                me.violation(format!("worker {w}: exit code {code}"));
            }
            let s = &me.worker_stats;
            s.exited.set(s.exited.get() + 1);
        });
        st.workers.borrow_mut().push(WorkerSlot {
            worker,
            sent: 0,
            answered: 0,
            bye: false,
        });
        for _ in 0..WORKER_IN_FLIGHT {
            worker_send(st, w);
        }
    }
}

fn worker_send(st: &Soak, w: usize) {
    let mut workers = st.workers.borrow_mut();
    let slot = &mut workers[w];
    // Message numbers: worker in the low bit, sequence above.
    let n = (slot.sent << 1) | w as u64;
    slot.sent += 1;
    slot.worker.post_message(n).expect("worker running");
    let s = &st.worker_stats;
    s.sent.set(s.sent.get() + 1);
}

fn worker_answered(st: &Rc<Soak>, w: usize, a: u64) {
    let (expected, drained) = {
        let mut workers = st.workers.borrow_mut();
        let slot = &mut workers[w];
        let expected = answer((slot.answered << 1) | w as u64);
        slot.answered += 1;
        (expected, slot.answered == slot.sent)
    };
    if a != expected {
        st.violation(format!(
            "worker {w}: answer {a:#x}, expected {expected:#x} (lost, doubled or reordered)"
        ));
    }
    let s = &st.worker_stats;
    s.answered.set(s.answered.get() + 1);
    if !st.stopping.get() {
        worker_send(st, w);
    } else if drained {
        worker_bye(st, w);
    }
}

fn worker_bye(st: &Soak, w: usize) {
    let mut workers = st.workers.borrow_mut();
    let slot = &mut workers[w];
    if !slot.bye && slot.answered == slot.sent {
        slot.bye = true;
        slot.worker.post_message(BYE).expect("worker running");
    }
}

// ---------------------------------------------------------------------------
// Sampling, warm-up, deadline

fn sample(st: &Rc<Soak>) {
    let t = st.started.elapsed().as_secs_f64();
    st.samples.borrow_mut().push(Memory::now(t));
    if st.stopping.get() {
        return;
    }
    // While running, every kind of load is at its full level.
    let pending = st.timers.pending.get();
    if pending != TIMERS as u64 {
        st.violation(format!("{t:.2} s: {pending} timers pending, not {TIMERS}"));
    }
    let in_flight = st.pool.in_flight.get();
    if in_flight != POOL_IN_FLIGHT {
        st.violation(format!(
            "{t:.2} s: {in_flight} pool operations in flight, not {POOL_IN_FLIGHT}"
        ));
    }
    let snap = evloop::snapshot();
    let p = &st.pool;
    p.queued_sum
        .set(p.queued_sum.get() + snap.pool_queued as u64);
    p.queued_min.set(p.queued_min.get().min(snap.pool_queued));
    p.running_sum
        .set(p.running_sum.get() + snap.pool_running as u64);
    p.running_min
        .set(p.running_min.get().min(snap.pool_running));
    p.samples.set(p.samples.get() + 1);
}

fn stop(st: &Rc<Soak>) {
    sample(st);
    st.end.set(st.samples.borrow().last().copied());
    st.stopping.set(true);
    if let Some(t) = st.sampler.take() {
        t.clear();
    }
    // Timers fire out, clients end after their round trip in flight, pool
    // slots finish their operation; workers with nothing in flight are told
    // to close now, the others when their last answer comes.
    let workers = st.workers.borrow().len();
    for w in 0..workers {
        worker_bye(st, w);
    }
}

fn soak_main(st: &Rc<Soak>) {
    std::fs::create_dir_all(&st.dir).expect("create the soak directory");
    for _ in 0..TIMERS {
        st.timer_slots.borrow_mut().push(TimerSlot::default());
    }
    for slot in 0..TIMERS {
        arm_timer(st, slot);
    }
    start_net(st);
    for slot in 0..POOL_IN_FLIGHT {
        st.pool_slots.borrow_mut().push(PoolSlot {
            next: [PoolOp::Work, PoolOp::Write][slot % 2],
            in_flight: None,
            written: Vec::new(),
        });
    }
    // A read needs its file: slots start with work or a write.
    for slot in 0..POOL_IN_FLIGHT {
        next_pool_op(st, slot);
    }
    start_workers(st);

    let me = st.clone();
    st.sampler
        .set(Some(set_interval(SAMPLE_MS, move || sample(&me))));
    let me = st.clone();
    set_timeout((st.cfg.warmup_secs * 1000.0) as u64, move || {
        sample(&me);
        me.warm.set(me.samples.borrow().last().copied());
    });
    let me = st.clone();
    set_timeout((st.cfg.secs * 1000.0) as u64, move || stop(&me));
}

#[test]
fn soak() {
    // A hang is a failure: the loop must exit by itself.
    let _w = common::watchdog_for(Duration::from_secs_f64(
        Config::from_env().secs * 4.0 + 120.0,
    ));
    let cfg = Config::from_env();

    let st = Rc::new(Soak {
        cfg,
        rng: Rng(Cell::new(0x9e37_79b9_7f4a_7c15)),
        stopping: Cell::new(false),
        started: Instant::now(),
        timer_slots: RefCell::new(Vec::with_capacity(TIMERS)),
        timers: TimerStats::default(),
        server: RefCell::new(None),
        conns: RefCell::new(Vec::with_capacity(CONNECTIONS)),
        net: NetStats::default(),
        dir: std::env::temp_dir().join(format!("evloop-soak-{}", std::process::id())),
        pool_slots: RefCell::new(Vec::with_capacity(POOL_IN_FLIGHT)),
        pool: PoolStats {
            queued_min: Cell::new(usize::MAX),
            running_min: Cell::new(usize::MAX),
            ..PoolStats::default()
        },
        next_op: Cell::new(0),
        workers: RefCell::new(Vec::with_capacity(WORKERS)),
        worker_stats: WorkerStats::default(),
        samples: RefCell::new(Vec::new()),
        warm: Cell::new(None),
        end: Cell::new(None),
        sampler: Cell::new(None),
        violations: RefCell::new(Vec::new()),
    });

    let lp = EventLoop::builder()
        .threadpool_size(POOL_THREADS)
        .build()
        .expect("build the loop");
    let me = st.clone();
    lp.run_main(move || soak_main(&me));
    let elapsed = st.started.elapsed();

    // The loop exited by itself: nothing is left in its tables.
    let snap = lp.snapshot();
    let leftovers = (
        snap.timers.referenced + snap.timers.unreferenced,
        snap.immediates.referenced + snap.immediates.unreferenced,
        snap.io.referenced + snap.io.unreferenced,
        snap.pending,
        snap.closing,
        lp.live_work(),
        lp.live_tasks(),
    );
    drop(lp);
    // Every callback that captured the state has run or been dropped (no
    // cycle through a socket's, a server's or a worker's handlers): only
    // this function still holds it.
    let holders = Rc::strong_count(&st);

    let t = &st.timers;
    let n = &st.net;
    let p = &st.pool;
    let w = &st.worker_stats;
    let warm = st.warm.get().expect("warm-up sample taken");
    let end = st.end.get().expect("end sample taken");
    let growth = (end.rss_kib as f64 - warm.rss_kib as f64) / warm.rss_kib as f64;
    println!(
        "soak: {:.1} s under load, {:.1} s in all (warm-up {:.1} s)",
        st.cfg.secs,
        elapsed.as_secs_f64(),
        st.cfg.warmup_secs
    );
    println!(
        "  timers:  {TIMERS} pending at all times; scheduled {}, fired {}, cleared {}, max lateness {} ms",
        t.scheduled.get(),
        t.fired.get(),
        t.cleared.get(),
        t.max_late.get()
    );
    println!(
        "  tcp:     {} connections; round trips {}, bytes sent {}, echoed {}, server read {} wrote {}",
        n.connected.get(),
        n.round_trips.get(),
        n.bytes_sent.get(),
        n.bytes_echoed.get(),
        n.server_read.get(),
        n.server_written.get()
    );
    let samples = p.samples.get().max(1) as f64;
    println!(
        "  pool:    {POOL_THREADS} threads, {POOL_IN_FLIGHT} in flight; queued {}, completed {} \
         (work {}, fs writes {}, fs reads {})",
        p.queued.get(),
        p.completed.get(),
        p.work.get(),
        p.writes.get(),
        p.reads.get(),
    );
    println!(
        "           at the samples: running min {} mean {:.1}, waiting for a thread min {} mean {:.1}",
        p.running_min.get(),
        p.running_sum.get() as f64 / samples,
        p.queued_min.get(),
        p.queued_sum.get() as f64 / samples,
    );
    println!(
        "  workers: {WORKERS}, {WORKER_IN_FLIGHT} in flight each; messages sent {}, answered {}, exited {}",
        w.sent.get(),
        w.answered.get(),
        w.exited.get()
    );
    println!(
        "  memory:  RSS warm-up {} KiB ({:.1} s), end {} KiB ({:.1} s), growth {:+.2}% (bar {:.0}%{}); \
         live heap warm-up {} KiB in {} blocks, end {} KiB in {} blocks",
        warm.rss_kib,
        warm.at,
        end.rss_kib,
        end.at,
        growth * 100.0,
        RSS_BAR * 100.0,
        if st.cfg.check_rss {
            ""
        } else {
            ", not checked"
        },
        warm.heap_bytes / 1024,
        warm.heap_blocks,
        end.heap_bytes / 1024,
        end.heap_blocks,
    );
    // About a dozen of the samples, evenly spread, with the last one.
    let samples = st.samples.borrow();
    let step = samples.len().div_ceil(12).max(1);
    let curve: Vec<String> = samples
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == samples.len() - 1)
        .map(|(_, m)| format!("{:.1}s {}/{}", m.at, m.rss_kib, m.heap_bytes / 1024))
        .collect();
    println!("  RSS/live heap KiB over time: {}", curve.join(", "));

    assert_eq!(
        holders, 1,
        "callbacks still hold the soak's state after the loop was dropped"
    );
    let violations = st.violations.borrow();
    assert!(
        violations.is_empty(),
        "soak: invariants broken:\n{}",
        violations.join("\n")
    );
    assert_eq!(
        leftovers,
        (0, 0, 0, 0, 0, 0, 0),
        "loop tables not empty after it exited (timers, immediates, io, pending, closing, work, tasks)"
    );
    // Timers: none lost, none doubled.
    assert_eq!(t.pending.get(), 0, "timers still pending");
    assert_eq!(
        t.scheduled.get(),
        t.fired.get() + t.cleared.get(),
        "timers scheduled = fired + cleared"
    );
    assert!(st.timer_slots.borrow().iter().all(|s| s.pending.is_none()));
    assert!(t.cleared.get() > 0, "some timers were cleared");
    // TCP: every byte echoed, every connection closed on both sides.
    assert_eq!(n.connected.get(), CONNECTIONS as u64);
    assert_eq!(n.errors.get(), 0);
    assert_eq!(
        n.bytes_sent.get(),
        n.bytes_echoed.get(),
        "bytes sent = echoed"
    );
    assert_eq!(
        n.server_read.get(),
        n.bytes_sent.get(),
        "server read every byte sent"
    );
    assert_eq!(
        n.server_written.get(),
        n.bytes_sent.get(),
        "server wrote every byte back"
    );
    let per_conn: u64 = st.conns.borrow().iter().map(|c| c.round_trips).sum();
    assert_eq!(per_conn, n.round_trips.get());
    assert!(
        st.conns
            .borrow()
            .iter()
            .all(|c| c.round_trips > 0 && c.echoed == c.message.len())
    );
    assert_eq!(n.client_closed.get(), CONNECTIONS as u64);
    assert_eq!(n.server_closed.get(), CONNECTIONS as u64);
    assert_eq!(n.server_close_cb.get(), 1, "server close callback ran once");
    // Pool: every operation completed once.
    assert_eq!(
        p.queued.get(),
        p.completed.get(),
        "pool operations queued = completed"
    );
    assert_eq!(
        p.work.get() + p.writes.get() + p.reads.get(),
        p.completed.get()
    );
    assert!(!st.dir.exists(), "soak directory removed");
    // Workers: every message answered, both exited cleanly.
    assert_eq!(
        w.sent.get(),
        w.answered.get(),
        "worker messages sent = answered"
    );
    assert_eq!(w.exited.get(), WORKERS as u64);
    if st.cfg.check_rss {
        assert!(
            growth.abs() <= RSS_BAR,
            "RSS at the end ({} KiB) is not within {:.0}% of RSS after warm-up ({} KiB): {:+.2}%",
            end.rss_kib,
            RSS_BAR * 100.0,
            warm.rss_kib,
            growth * 100.0
        );
    }
}

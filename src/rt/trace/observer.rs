//! The observers' data, which `Core` owns: the phase trace, the Chrome
//! trace file, the blocked-loop watchdog, the pool's sink, and the flow ids
//! that link a timer or immediate to its run.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::panic::Location;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::rt::callback::Site;
use crate::rt::callback::describe_site;
use crate::rt::env;
use crate::rt::trace::chrome::Buffer;
use crate::rt::trace::counts::Phase;
use crate::rt::trace::replay::{From, Queue, Replay, ReplaySink, json_str};
use crate::rt::trace::stepper::{Stepper, describe};

/// What to observe, from the builder and the environment.
#[derive(Clone, Debug, Default)]
pub(crate) struct TraceConfig {
    pub(crate) log: bool,
    pub(crate) chrome: Option<PathBuf>,
    pub(crate) watchdog: Option<Duration>,
    pub(crate) teaching: bool,
    /// The replay page to record into (`EVLOOP_REPLAY`).
    pub(crate) replay: Option<PathBuf>,
    /// Pause before each callback in the terminal (`EVLOOP_STEP`).
    pub(crate) step: bool,
}

impl TraceConfig {
    /// Fills what the builder left open from `EVLOOP_TRACE`,
    /// `EVLOOP_TRACE_FILE` and `EVLOOP_WATCHDOG_MS`. An `EVLOOP_WATCHDOG_MS`
    /// that is not a whole number of milliseconds from 1 up is an
    /// `InvalidInput` error naming it (a typo must not silently turn the
    /// watchdog off).
    pub(crate) fn with_env(mut self) -> std::io::Result<TraceConfig> {
        if self.replay.is_none() {
            self.replay = std::env::var_os("EVLOOP_REPLAY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from);
        }
        if !self.step {
            self.step = env::switch("EVLOOP_STEP")?;
        }
        if !self.log {
            self.log = env::switch("EVLOOP_TRACE")?;
        }
        if self.chrome.is_none() {
            self.chrome = std::env::var_os("EVLOOP_TRACE_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from);
        }
        if self.watchdog.is_none() {
            self.watchdog = env::parse(
                "EVLOOP_WATCHDOG_MS",
                "the watchdog threshold must be a whole number of milliseconds, at least 1",
                |v| {
                    v.parse()
                        .ok()
                        .filter(|&ms| ms > 0)
                        .map(Duration::from_millis)
                },
            )?;
        }
        Ok(self)
    }

    fn active(&self) -> bool {
        self.log
            || self.chrome.is_some()
            || self.watchdog.is_some()
            || self.replay.is_some()
            || self.step
    }
}

/// The observer of one loop: present only if something is observed.
pub(crate) struct Observer {
    log: bool,
    chrome: Option<Chrome>,
    watchdog: Option<Watchdog>,
    phase_start: Cell<Option<Instant>>,
    phase_callbacks: Cell<usize>,
    /// The replay recording this loop writes to, if any.
    pub(crate) replay: Option<Replay>,
    /// Where the next callback comes from: set by the code that takes it
    /// off its queue, read as it starts (for the replay and the stepper).
    from: Cell<From>,
    /// The terminal stepper (`EVLOOP_STEP`).
    pub(crate) step: Option<Stepper>,
    /// Where each callback on the stack came from, innermost last.
    frames: RefCell<Vec<From>>,
}

/// Microseconds since `epoch`, as Chrome's `ts`.
fn micros(epoch: Instant, at: Instant) -> f64 {
    at.saturating_duration_since(epoch).as_nanos() as f64 / 1000.0
}

impl Observer {
    /// `seeded`: the loop takes its choices from a seed, so its replay
    /// records virtual times (see `replay`).
    pub(crate) fn new(config: &TraceConfig, loop_id: u32, seeded: bool) -> Option<Observer> {
        if !config.active() {
            return None;
        }
        let epoch = Instant::now();
        Some(Observer {
            log: config.log,
            chrome: config.chrome.clone().map(|path| Chrome::new(path, loop_id)),
            watchdog: config.watchdog.map(|t| Watchdog::start(t, epoch)),
            phase_start: Cell::new(None),
            phase_callbacks: Cell::new(0),
            replay: config
                .replay
                .as_deref()
                .map(|p| Replay::start(p, loop_id, seeded)),
            from: Cell::new(From::Main),
            step: config.step.then(Stepper::new),
            frames: RefCell::new(Vec::new()),
        })
    }

    /// The sink pool threads write their jobs to, if tracing to a file or
    /// recording a replay.
    pub(crate) fn pool_sink(&self) -> Option<PoolSink> {
        if self.chrome.is_none() && self.replay.is_none() {
            return None;
        }
        Some(PoolSink {
            events: self.chrome.as_ref().map(|c| c.buffer.clone()),
            epoch: process_epoch(),
            tid_base: self.chrome.as_ref().map_or(0, |c| c.loop_id * 1000 + 100),
            replay: self.replay.as_ref().map(Replay::pool_sink),
        })
    }

    /// Says where the next callback comes from (see `From`).
    #[inline]
    pub(crate) fn from(&self, from: From) {
        self.from.set(from);
    }

    /// Takes where the starting callback comes from (a callback nobody
    /// announced is a nested call) and keeps it as its frame until
    /// [`Observer::pop_frame`].
    pub(crate) fn take_from(&self) -> From {
        let from = self.from.replace(From::Call(0));
        self.frames.borrow_mut().push(from);
        from
    }

    /// The running callback returned.
    pub(crate) fn pop_frame(&self) {
        self.frames.borrow_mut().pop();
    }

    /// What the running callback is, in words ("next tick scheduled at
    /// main.rs:3"), for the trace lines.
    fn running(&self, site: Site) -> String {
        let at = describe_site(site);
        match self.frames.borrow().last() {
            Some(&from) => describe(from, &at),
            None => format!("callback scheduled at {at}"),
        }
    }

    pub(crate) fn phase_begin(&self) {
        self.phase_start.set(Some(Instant::now()));
        self.phase_callbacks.set(0);
    }

    pub(crate) fn phase_end(&self, phase: Phase, iteration: u64) {
        let Some(start) = self.phase_start.take() else {
            return;
        };
        let n = self.phase_callbacks.get();
        if n == 0 && phase != Phase::Poll {
            return; // nothing ran: keep the trace readable
        }
        let end = Instant::now();
        if self.log {
            log::trace!(
                target: "evloop::trace",
                "iteration {iteration} {}: {n} callback(s) in {} µs",
                phase.name(),
                end.duration_since(start).as_micros()
            );
        }
        if let Some(c) = &self.chrome {
            c.slice(
                phase.name(),
                "phase",
                start,
                end,
                &format!(r#"{{"iteration":{iteration},"callbacks":{n}}}"#),
            );
        }
    }

    pub(crate) fn callback_begin(&self, site: Site) -> Instant {
        self.phase_callbacks.set(self.phase_callbacks.get() + 1);
        if let Some(w) = &self.watchdog {
            w.busy(site);
        }
        Instant::now()
    }

    pub(crate) fn callback_end(&self, site: Site, phase: Phase, start: Instant) {
        let end = Instant::now();
        if self.log {
            log::trace!(
                target: "evloop::trace",
                "  {} phase: {} ran {} µs",
                phase.name(),
                self.running(site),
                end.duration_since(start).as_micros()
            );
        }
        if let Some(c) = &self.chrome {
            let args = format!(r#"{{"what":{}}}"#, json_str(&self.running(site)));
            c.slice(&describe_site(site), phase.name(), start, end, &args);
        }
    }

    /// Where a timer or an immediate was scheduled (the arrow's tail).
    pub(crate) fn flow_out(&self, id: u64) {
        if let Some(c) = &self.chrome {
            c.flow('s', id, Instant::now());
        }
    }

    /// Where it ran (the arrow's head), right as its slice begins; `q` is
    /// its queue, for the replay.
    pub(crate) fn flow_in(&self, q: Queue, id: u64, at: Instant) {
        self.from.set(From::Keyed(q, id));
        if let Some(c) = &self.chrome {
            c.flow('f', id, at);
        }
    }

    /// The loop is about to wait for I/O or a timer (`waiting`), or is back.
    pub(crate) fn poll_wait(&self, waiting: bool) {
        if let Some(w) = &self.watchdog {
            w.polling(waiting);
        }
        if waiting && let Some(c) = &self.chrome {
            // Idle: the trace so far goes to disk, so that a loop that waits
            // long (or is killed while it waits) has its events in the
            // file. An error is reported at drop and by `write_trace`.
            let _ = c.buffer.flush();
        }
    }

    /// Writes the buffered Chrome trace events to the file now.
    pub(crate) fn flush(&self) -> std::io::Result<()> {
        match &self.chrome {
            Some(c) => c.buffer.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        if let Some(r) = &self.replay {
            r.flush();
        }
        if let Some(c) = &self.chrome
            && let Err(e) = c.buffer.finish()
        {
            log::error!(target: "evloop", "cannot write the trace file {}: {e}", c.buffer.path().display());
        }
    }
}

/// Flow ids: timers and immediates live in different id spaces.
pub(crate) fn timer_flow(index: u32, generation: u32) -> u64 {
    1 << 63 | (index as u64) << 31 | (generation as u64 & 0x7fff_ffff)
}

pub(crate) fn immediate_flow(seq: u64) -> u64 {
    seq & !(1 << 63)
}

/// A loop's track in the Trace Event Format file (what Perfetto and
/// chrome://tracing open), streamed through its [`Buffer`] (`chrome.rs`).
///
/// Every loop of the process tracing to one path shares the file: each has
/// its own track (tid `1000 × loop id`, its pool threads `+ 100 + n`), all
/// on one time axis (the process's first trace). Flow ids carry the loop id
/// in bits 47–61, so arrows of two loops do not join.
struct Chrome {
    epoch: Instant,
    loop_id: u32,
    /// This loop's events and its pool threads' not yet in the file.
    buffer: Arc<Buffer>,
}

/// The time axis of every trace file of the process.
fn process_epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl Chrome {
    fn new(path: PathBuf, loop_id: u32) -> Chrome {
        let buffer = Buffer::open(path);
        let pid = std::process::id();
        let tid = loop_id * 1000;
        let thread = std::thread::current()
            .name()
            .map_or(String::new(), |n| format!(" ({n})"));
        buffer.push(|e| {
            let _ = write!(
                e,
                r#",{{"name":"process_name","ph":"M","pid":{pid},"tid":{tid},"args":{{"name":"evloop"}}}},{{"name":"thread_name","ph":"M","pid":{pid},"tid":{tid},"args":{{"name":{}}}}}"#,
                json_str(&format!("event loop {loop_id}{thread}"))
            );
        });
        Chrome {
            epoch: process_epoch(),
            loop_id,
            buffer,
        }
    }

    fn slice(&self, name: &str, cat: &str, start: Instant, end: Instant, args: &str) {
        let tid = self.loop_id * 1000;
        self.buffer.push(|e| {
            let _ = write!(
                e,
                r#",{{"name":{},"cat":"{cat}","ph":"X","ts":{:.3},"dur":{:.3},"pid":{},"tid":{tid},"args":{args}}}"#,
                json_str(name),
                micros(self.epoch, start),
                end.saturating_duration_since(start).as_nanos() as f64 / 1000.0,
                std::process::id(),
            );
        });
    }

    fn flow(&self, ph: char, id: u64, at: Instant) {
        let bind = if ph == 'f' { r#","bp":"e""# } else { "" };
        let id = id ^ (u64::from(self.loop_id) & 0x7fff) << 47;
        let tid = self.loop_id * 1000;
        self.buffer.push(|e| {
            let _ = write!(
                e,
                r#",{{"name":"scheduled","cat":"flow","ph":"{ph}","id":{id},"ts":{:.3},"pid":{},"tid":{tid}{bind}}}"#,
                micros(self.epoch, at),
                std::process::id(),
            );
        });
    }
}

/// Where pool threads record their jobs: as slices on their own tracks of
/// the Chrome trace, and as steps of the replay.
#[derive(Clone)]
pub(crate) struct PoolSink {
    events: Option<Arc<Buffer>>,
    epoch: Instant,
    /// The Chrome track of pool thread `n` is `tid_base + n`.
    tid_base: u32,
    pub(crate) replay: Option<ReplaySink>,
}

impl PoolSink {
    /// Names the track of pool thread `n`.
    pub(crate) fn thread(&self, n: usize) {
        let Some(events) = &self.events else { return };
        events.push(|e| {
            let _ = write!(
                e,
                r#",{{"name":"thread_name","ph":"M","pid":{},"tid":{},"args":{{"name":"pool thread {n}"}}}}"#,
                std::process::id(),
                self.tid_base as usize + n
            );
        });
    }

    pub(crate) fn job(
        &self,
        n: usize,
        site: &'static Location<'static>,
        start: Instant,
        end: Instant,
    ) {
        let Some(events) = &self.events else { return };
        events.push(|e| {
            let _ = write!(
                e,
                r#",{{"name":{},"cat":"pool","ph":"X","ts":{:.3},"dur":{:.3},"pid":{},"tid":{},"args":{{}}}}"#,
                json_str(&describe_site(site)),
                micros(self.epoch, start),
                end.saturating_duration_since(start).as_nanos() as f64 / 1000.0,
                std::process::id(),
                self.tid_base as usize + n
            );
        });
    }
}

/// The blocked-loop detector: a thread that warns, once per stall, when the
/// loop has not reached its poll phase for longer than the threshold, and
/// names the callback that is running.
struct Watchdog {
    shared: Arc<WatchShared>,
}

struct WatchShared {
    epoch: Instant,
    threshold: Duration,
    /// Nanoseconds since `epoch` at which the loop last left its poll wait
    /// (0: never), i.e. the start of the current busy stretch.
    busy_since: AtomicU64,
    waiting: AtomicBool,
    site: Mutex<Option<&'static Location<'static>>>,
    callback_since: AtomicU64,
    stop: AtomicBool,
}

impl Watchdog {
    fn start(threshold: Duration, epoch: Instant) -> Watchdog {
        let shared = Arc::new(WatchShared {
            epoch,
            threshold,
            busy_since: AtomicU64::new(1),
            waiting: AtomicBool::new(false),
            site: Mutex::new(None),
            callback_since: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("evloop-watchdog".into())
            .spawn(move || s.watch());
        if let Err(e) = spawned {
            log::error!(target: "evloop", "cannot start the watchdog thread: {e}");
        }
        Watchdog { shared }
    }

    fn now(&self) -> u64 {
        self.shared.epoch.elapsed().as_nanos() as u64 + 1
    }

    fn busy(&self, site: Site) {
        *self.shared.site.lock().unwrap_or_else(|p| p.into_inner()) = Some(site);
        self.shared
            .callback_since
            .store(self.now(), Ordering::Release);
    }

    fn polling(&self, waiting: bool) {
        if !waiting {
            self.shared.busy_since.store(self.now(), Ordering::Release);
        }
        self.shared.waiting.store(waiting, Ordering::Release);
    }
}

impl WatchShared {
    fn watch(&self) {
        let step = (self.threshold / 4).max(Duration::from_millis(1));
        let mut reported = 0u64;
        while !self.stop.load(Ordering::Acquire) {
            std::thread::sleep(step);
            if self.waiting.load(Ordering::Acquire) {
                continue;
            }
            let since = self.busy_since.load(Ordering::Acquire);
            let now = self.epoch.elapsed().as_nanos() as u64 + 1;
            let stalled = Duration::from_nanos(now.saturating_sub(since));
            if stalled < self.threshold || since == reported {
                continue;
            }
            reported = since;
            let site = *self.site.lock().unwrap_or_else(|p| p.into_inner());
            let cb = self.callback_since.load(Ordering::Acquire);
            match site {
                Some(site) if cb >= since => log::warn!(
                    target: "evloop::watchdog",
                    "the event loop is blocked: no poll phase for {} ms; the running callback \
                     was scheduled at {}:{} and has run {} ms",
                    stalled.as_millis(),
                    site.file(),
                    site.line(),
                    Duration::from_nanos(now.saturating_sub(cb)).as_millis()
                ),
                _ => log::warn!(
                    target: "evloop::watchdog",
                    "the event loop is blocked: no poll phase for {} ms (the main script or \
                     code outside callbacks)",
                    stalled.as_millis()
                ),
            }
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
    }
}

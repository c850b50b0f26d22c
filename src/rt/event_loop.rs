//! The loop itself: [`EventLoop`], its [`Builder`], the run modes, and the one
//! function that runs an iteration in libuv's phase order ([`Core::iterate`]).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::ptr::NonNull;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::rt::clock::Clock;
use crate::rt::executor::{self, Executor};
use crate::rt::pool::{self, Pool};
use crate::rt::queue::{self, Immediates, Micro, Microtasks, Queue};
use crate::rt::reactor::{Fired, Reactor};
use crate::rt::remote::{Inbox, LoopHandle, Remote};
use crate::rt::timer::{self, Timers};
use crate::rt::trace::{Labels, Observer, Phase, RefCounts, Snapshot, TraceConfig};

pub(crate) use crate::rt::callback::{Callback, Payload, Site};

thread_local! {
    /// The loop running (or entered) on this thread, at most one: the core
    /// that the `Entered` guard which set this keeps alive. (A plain pointer
    /// rather than an `Rc` in a `RefCell`: every scheduling call and every
    /// await reads it, and this read is one load.)
    static CURRENT: Cell<Option<NonNull<Core>>> = const { Cell::new(None) };
}

/// A hook that a module above the loop registers to hear of a loop's drop:
/// it gets the loop's id, drops what it holds for that loop, and returns how
/// many items it dropped (so the loop keeps clearing while anything does).
pub(crate) type DropHook = fn(u32) -> usize;

thread_local! {
    /// This thread's drop hooks, by the name each registered with. The loop
    /// never calls up into the modules built on it except through these.
    static DROP_HOOKS: RefCell<Vec<(&'static str, DropHook)>> = const { RefCell::new(Vec::new()) };
}

/// Registers `hook` (once per `name` and thread) to run whenever a loop of
/// this thread is dropped, after its own queues are cleared; e.g. the
/// worker module terminates the workers that report to that loop.
pub(crate) fn on_loop_drop(name: &'static str, hook: DropHook) {
    let _ = DROP_HOOKS.try_with(|hooks| {
        let mut hooks = hooks.borrow_mut();
        if !hooks.iter().any(|(n, _)| *n == name) {
            hooks.push((name, hook));
        }
    });
}

/// Runs this thread's drop hooks for loop `id`; how many items they dropped.
fn run_drop_hooks(id: u32) -> usize {
    // A copy, so that a hook may register another without a double borrow.
    let hooks = DROP_HOOKS
        .try_with(|hooks| hooks.borrow().clone())
        .unwrap_or_default();
    hooks.into_iter().map(|(_, hook)| hook(id)).sum()
}

/// Runs `f` with the current thread's loop, if one is running.
#[inline]
pub(crate) fn try_with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CURRENT.with(Cell::get)?;
    // SAFETY: while `CURRENT` is set, the `Entered` guard that set it is
    // alive further up this thread's stack and holds an `Rc` of this core;
    // it clears `CURRENT` before it lets go. `f` returns before that frame
    // does, and its `&Core` cannot escape `f`.
    Some(f(unsafe { core.as_ref() }))
}

/// Runs `f` with the current thread's loop, or panics naming `what`.
#[inline]
pub(crate) fn with_core<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    match CURRENT.with(Cell::get) {
        // SAFETY: as in `try_with_core`.
        Some(core) => f(unsafe { core.as_ref() }),
        None => no_loop(what),
    }
}

#[cold]
#[track_caller]
fn no_loop(what: &str) -> ! {
    panic!(
        "evloop: {what}() called with no event loop running on this thread \
         (call it from inside evloop::run, EventLoop::run_main or EventLoop::enter)"
    )
}

/// Installs a loop as the thread's current loop for as long as it lives,
/// keeping the loop's core alive meanwhile (see `CURRENT`).
struct Entered {
    _core: Rc<Core>,
}

impl Entered {
    #[track_caller]
    fn new(core: &Rc<Core>) -> Entered {
        if CURRENT.with(Cell::get).is_some() {
            panic!(
                "evloop: an event loop is already running on this thread; \
                 a loop cannot be run or entered from inside a loop callback"
            );
        }
        let core = core.clone();
        CURRENT.set(Some(NonNull::from(&*core)));
        Entered { _core: core }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        // Cleared before the `Rc` goes (see `CURRENT`).
        CURRENT.set(None);
    }
}

/// How far [`EventLoop::run`] goes, like libuv's `uv_run_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Iterate until nothing referenced is pending or [`stop`] is called
    /// (`UV_RUN_DEFAULT`).
    Default,
    /// One iteration, blocking in the poll phase if there is nothing else to
    /// do (`UV_RUN_ONCE`).
    Once,
    /// One iteration that never blocks (`UV_RUN_NOWAIT`): what an embedding
    /// host calls when the [backend fd](EventLoop::backend_fd) is readable or
    /// the [backend timeout](EventLoop::backend_timeout) has passed.
    NoWait,
}

/// A panic that escaped a loop callback, handed to the handler installed with
/// [`set_uncaught_panic_handler`] or [`Builder::on_uncaught_panic`].
pub struct UncaughtPanic {
    payload: Payload,
    site: Site,
}

impl UncaughtPanic {
    /// The panic message, if the payload is a string (as for `panic!("...")`).
    pub fn message(&self) -> Option<&str> {
        crate::rt::panic::panic_message(&*self.payload)
    }

    /// Where the callback that panicked was scheduled.
    pub fn site(&self) -> &'static Location<'static> {
        self.site
    }

    /// The raw panic payload, e.g. to `resume_unwind` it later.
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }
}

impl fmt::Debug for UncaughtPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UncaughtPanic")
            .field("message", &self.message())
            .field("site", &crate::rt::callback::describe_site(self.site))
            .finish()
    }
}

type PanicHandler = Box<dyn FnMut(UncaughtPanic)>;

static NEXT_LOOP_ID: AtomicU32 = AtomicU32::new(1);

/// Everything one loop owns. Lives in an `Rc` shared by [`EventLoop`] and the
/// thread-local "current loop" slot while the loop runs.
pub(crate) struct Core {
    pub(in crate::rt) id: u32,
    /// This core, weakly: for I/O sources that must reach their own loop
    /// while another loop of the thread runs (see `reactor::Registration`).
    pub(in crate::rt) this: Weak<Core>,
    pub(in crate::rt) clock: Clock,
    pub(in crate::rt) ticks: RefCell<Queue>,
    pub(in crate::rt) microtasks: RefCell<Microtasks>,
    pub(in crate::rt) timers: RefCell<Timers>,
    pub(in crate::rt) immediates: RefCell<Immediates>,
    pub(in crate::rt) executor: Executor,
    pub(in crate::rt) pool: Pool,
    /// I/O callbacks deferred to the next iteration (pending phase).
    pub(in crate::rt) pending: RefCell<Queue>,
    /// Close callbacks (close phase).
    pub(in crate::rt) closing: RefCell<Queue>,
    pub(in crate::rt) reactor: RefCell<Reactor>,
    /// Reused buffer of the events one poll reported.
    fired: RefCell<Fired>,
    inbox: Inbox,
    stop: Cell<bool>,
    iteration: Cell<u64>,
    pub(in crate::rt) phase: Cell<Phase>,
    /// `Some` when something observes the loop (trace, file, watchdog).
    pub(in crate::rt) observer: Option<Observer>,
    /// Snapshots list scheduling sites.
    teaching: bool,
    /// Names given to timers and immediates, by flow id (for labels).
    names: RefCell<std::collections::HashMap<u64, &'static str>>,
    /// How long the loop has waited in poll since it was created, on its own
    /// clock: real waits on real time, the jumps to the next timer on
    /// virtual time (a real wait there, for a pool job, moves no clock).
    /// The rest of `clock.hrtime_ns()` is its active time; the two are
    /// event loop utilization's halves.
    pub(in crate::rt) idle_ns: Cell<u64>,
    panic_handler: RefCell<Option<PanicHandler>>,
}

/// What the layers above may do with a loop's queues and clocks: each queue
/// has one way in, which keeps its rule (a tick runs in the drain after the
/// current callback, a pending callback in the next pending phase, a close
/// callback in the next close phase).
impl Core {
    /// This loop's id (unique in the process).
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// Queues `cb` on the next-tick queue: it runs in the drain after the
    /// current callback, before any microtask (`process.nextTick`).
    pub(crate) fn push_tick(&self, cb: Callback) {
        self.ticks.borrow_mut().push_back(cb);
    }

    /// Defers `cb` to the pending phase of the next iteration (libuv's
    /// `uv__io_feed`): an I/O callback that must not run inside the current
    /// one.
    pub(crate) fn defer_pending(&self, cb: Callback) {
        self.pending.borrow_mut().push_back(cb);
    }

    /// Queues `cb` for the close phase (a handle's `close` event).
    pub(crate) fn push_close(&self, cb: Callback) {
        self.closing.borrow_mut().push_back(cb);
    }

    /// The loop's clock, uncached (`uv_hrtime`, nanoseconds since the loop
    /// was created; the virtual clock under virtual time).
    pub(crate) fn hrtime_ns(&self) -> u64 {
        self.clock.hrtime_ns()
    }

    /// How long the loop has waited in poll, in nanoseconds on its clock
    /// (see `idle_ns`).
    pub(crate) fn idle_ns(&self) -> u64 {
        self.idle_ns.get()
    }

    /// Runs one callback, then drains next ticks and microtasks. An unhandled
    /// panic unwinds to the caller of the run function.
    pub(crate) fn invoke(&self, cb: Callback) {
        self.invoke_as::<false>(cb);
    }

    /// [`Core::invoke`], observed (`OBSERVED = true`: trace hooks around it) or not
    /// (`OBSERVED = false`: the hooks compile away).
    pub(crate) fn invoke_as<const OBSERVED: bool>(&self, cb: Callback) {
        self.invoke_fn::<OBSERVED>(cb.site, || cb.f.call_once());
    }

    fn invoke_fn<const OBSERVED: bool>(&self, site: Site, f: impl FnOnce()) {
        if let Err(payload) = self.try_invoke::<OBSERVED>(site, f) {
            resume_unwind(payload);
        }
    }

    /// Like [`Core::invoke`] but hands an unhandled panic back, for callers
    /// that must clean up before it continues unwinding.
    pub(crate) fn try_invoke<const OBSERVED: bool>(
        &self,
        site: Site,
        f: impl FnOnce(),
    ) -> Result<(), Payload> {
        self.call::<OBSERVED>(site, f)?;
        self.drain::<OBSERVED>()
    }

    /// Drains next ticks and microtasks now, as after a callback, for
    /// handlers that run several user callbacks from one event (a socket's
    /// data chunks). An unhandled panic unwinds out of the run.
    pub(crate) fn drain_now(&self) {
        if let Err(payload) = self.drain::<false>() {
            resume_unwind(payload);
        }
    }

    fn call<const OBSERVED: bool>(&self, site: Site, f: impl FnOnce()) -> Result<(), Payload> {
        let start = if OBSERVED {
            self.observer.as_ref().map(|o| o.callback_begin(site))
        } else {
            None
        };
        let result = catch_unwind(AssertUnwindSafe(f));
        if OBSERVED && let (Some(o), Some(start)) = (&self.observer, start) {
            o.callback_end(site, self.phase.get(), start);
        }
        match result {
            Ok(()) => Ok(()),
            Err(payload) => self.uncaught(payload, site),
        }
    }

    /// Node's `processTicksAndRejections`: all ticks, then all microtasks,
    /// until both are empty.
    fn drain<const OBSERVED: bool>(&self) -> Result<(), Payload> {
        loop {
            // (`pop` spelled out, in blocks that end the borrow: this is the
            // hottest loop of an async program, and left out of line the
            // pop cost about a quarter of a microtask's trip.)
            while let Some(cb) = { self.ticks.borrow_mut().pop_front() } {
                self.call::<OBSERVED>(cb.site, || cb.f.call_once())?;
            }
            while let Some(m) = { self.microtasks.borrow_mut().pop_front() } {
                match m {
                    Micro::Call(cb) => self.call::<OBSERVED>(cb.site, || cb.f.call_once())?,
                    Micro::Poll(key) => self.call_poll::<OBSERVED>(key)?,
                }
            }
            if self.ticks.borrow().is_empty() {
                return Ok(());
            }
        }
    }

    /// [`Core::call`] for a task poll, whose site is the task's: looked up
    /// first when the loop is observed, else only if the poll panics.
    fn call_poll<const OBSERVED: bool>(&self, key: u64) -> Result<(), Payload> {
        if OBSERVED {
            let site = self.executor.site_of(key);
            return self.call::<OBSERVED>(site, || executor::poll_task(self, key));
        }
        match catch_unwind(AssertUnwindSafe(|| executor::poll_task(self, key))) {
            Ok(()) => Ok(()),
            Err(payload) => self.uncaught(payload, self.executor.panic_site()),
        }
    }

    /// The panic policy: with a handler, report and go on; without, hand the
    /// payload back so it unwinds out of the run function.
    fn uncaught(&self, payload: Payload, site: Site) -> Result<(), Payload> {
        let handler = self.panic_handler.borrow_mut().take();
        let Some(mut handler) = handler else {
            log::error!(
                target: "evloop",
                "uncaught panic in a callback scheduled at {}; the run stops",
                crate::rt::callback::describe_site(site)
            );
            return Err(payload);
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            handler(UncaughtPanic { payload, site })
        }));
        // Put it back unless the handler installed a new one.
        let mut slot = self.panic_handler.borrow_mut();
        if slot.is_none() {
            *slot = Some(handler);
        }
        drop(slot);
        result
    }

    /// Remembers a user-given name for a timer or immediate. Names of
    /// handles that are gone are pruned as the table grows.
    pub(crate) fn name(&self, id: u64, name: &'static str) {
        let mut names = self.names.borrow_mut();
        if names.len() >= 64 {
            let timers = self.timers.borrow();
            let imm = self.immediates.borrow();
            names.retain(|&id, _| timers.has_flow(id) || imm.has_flow(id));
        }
        names.insert(id, name);
    }

    fn label(&self, (id, site): (u64, Site)) -> String {
        let at = crate::rt::callback::describe_site(site);
        match self.names.borrow().get(&id) {
            Some(name) => format!("{name} ({at})"),
            None => at,
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let (timers, timer_refs, timer_sites) = {
            let t = self.timers.borrow();
            let sites = self.teaching.then(|| t.sites());
            (t.len(), t.referenced(), sites)
        };
        let imm = self.immediates.borrow();
        let (io_refs, io_total) = self.reactor.borrow().counts();
        let sites =
            |q: &RefCell<Queue>| crate::rt::trace::labels_of(q.borrow().iter().map(|c| c.site));
        Snapshot {
            phase: self.phase.get(),
            iteration: self.iteration.get(),
            next_ticks: self.ticks.borrow().len(),
            microtasks: self.microtasks.borrow().len(),
            timers: RefCounts {
                referenced: timer_refs,
                unreferenced: timers - timer_refs,
            },
            immediates: RefCounts {
                referenced: imm.referenced(),
                unreferenced: imm.live() - imm.referenced(),
            },
            pending: self.pending.borrow().len(),
            closing: self.closing.borrow().len(),
            pool_queued: self.pool.queued(),
            pool_running: self.pool.running(),
            tasks: self.executor.pending(),
            io: RefCounts {
                referenced: io_refs,
                unreferenced: io_total - io_refs,
            },
            loop_handles: self.inbox.refs(),
            labels: self.teaching.then(|| Labels {
                next_ticks: sites(&self.ticks),
                microtasks: crate::rt::trace::labels_of(
                    self.microtasks
                        .borrow()
                        .iter()
                        .map(|item| item.unwrap_or_else(|key| self.executor.site_of(key))),
                ),
                timers: timer_sites
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| self.label(s))
                    .collect(),
                immediates: imm.sites().map(|s| self.label(s)).collect(),
                pending: sites(&self.pending),
                closing: sites(&self.closing),
            }),
        }
    }

    /// An unreferenced sender into this loop, for task wakers.
    pub(crate) fn remote_ref(&self) -> &Remote {
        self.inbox.remote_ref()
    }

    /// Whether anything referenced is pending (`uv_loop_alive`), or a
    /// pending task that something can still wake.
    fn alive(&self) -> bool {
        let handles = self.timers.borrow().referenced() > 0
            || self.immediates.borrow().referenced() > 0
            || !self.pending.borrow().is_empty()
            || !self.closing.borrow().is_empty()
            || self.pool_busy()
            || self.reactor.borrow().referenced() > 0
            || self.inbox.keeps_alive();
        handles || (self.executor.pending() > 0 && self.executor.any_wakeable())
    }

    /// One loop iteration. When something observes the loop (trace, trace
    /// file, watchdog) it runs the observed copy of the same code.
    fn iterate(&self, mode: RunMode) {
        if self.observer.is_some() {
            self.iterate_as::<true>(mode);
        } else {
            self.iterate_as::<false>(mode);
        }
    }

    /// One loop iteration, in libuv's order.
    fn iterate_as<const OBSERVED: bool>(&self, mode: RunMode) {
        self.iteration.set(self.iteration.get() + 1);
        // 1. update the loop's time (read lazily by whoever needs it first)
        self.clock.invalidate();
        // 2. timers
        self.phase::<OBSERVED>(Phase::Timers, || timer::run_timers::<OBSERVED>(self));
        // 3. pending callbacks
        self.phase::<OBSERVED>(Phase::Pending, || self.run_queue::<OBSERVED>(&self.pending));
        // 4. idle, prepare: no user handles of these kinds exist yet
        // 5. poll for I/O
        let timeout = match mode {
            RunMode::NoWait => Some(Duration::ZERO),
            RunMode::Once | RunMode::Default => self.poll_timeout(),
        };
        self.phase::<OBSERVED>(Phase::Poll, || self.poll::<OBSERVED>(timeout));
        // 6. check (immediates)
        self.phase::<OBSERVED>(Phase::Check, || queue::run_check::<OBSERVED>(self));
        // 7. close callbacks
        self.phase::<OBSERVED>(Phase::Close, || self.run_queue::<OBSERVED>(&self.closing));
        self.phase.set(Phase::Main);
    }

    /// Runs one phase, telling the observer (if `OBSERVED`) and the log.
    #[inline(always)]
    fn phase<const OBSERVED: bool>(&self, phase: Phase, run: impl FnOnce() -> usize) {
        self.phase.set(phase);
        if OBSERVED && let Some(o) = &self.observer {
            o.phase_begin();
        }
        let n = run();
        if OBSERVED && let Some(o) = &self.observer {
            o.phase_end(phase, self.iteration.get());
        }
        if !OBSERVED {
            // (The observer's trace says this and more.)
            trace_phase(self, phase.name(), n);
        }
    }

    /// Runs the callbacks queued when the phase began; later ones wait for the
    /// next iteration.
    fn run_queue<const OBSERVED: bool>(&self, queue: &RefCell<Queue>) -> usize {
        let n = queue.borrow().len();
        for _ in 0..n {
            match pop(queue) {
                Some(cb) => self.invoke_as::<OBSERVED>(cb),
                None => return n,
            }
        }
        n
    }

    /// How long the poll phase may block (`uv_backend_timeout`): zero when
    /// there is other work, until the next timer otherwise, forever (`None`)
    /// when only I/O or cross-thread handles keep the loop alive.
    fn poll_timeout(&self) -> Option<Duration> {
        if self.stop.get()
            || self.immediates.borrow().live() > 0
            || !self.pending.borrow().is_empty()
            || !self.closing.borrow().is_empty()
            || !self.alive()
            // Left by a panic that stopped the last run in the poll phase
            // (see `poll`): readiness not yet handled, posts not yet run.
            || !self.fired.borrow().is_empty()
            || self.inbox.woken()
        {
            return Some(Duration::ZERO);
        }
        let tick = self.timers.borrow().next_deadline()?;
        let now = self.clock.now_ns();
        Some(Duration::from_nanos(
            tick.saturating_mul(1_000_000).saturating_sub(now),
        ))
    }

    /// The poll phase: wait for readiness, then run I/O callbacks and the
    /// closures posted from other threads.
    fn poll<const OBSERVED: bool>(&self, timeout: Option<Duration>) -> usize {
        let woken = self.inbox.woken();
        // Events left over by a panic that stopped the last run in this phase
        // come first.
        let mut fired = std::mem::take(&mut *self.fired.borrow_mut());
        let virtual_jump = match timeout {
            Some(t) if self.clock.is_virtual() && !t.is_zero() => Some(t),
            _ => None,
        };
        let wait = match virtual_jump {
            // Pool jobs finish in real time: wait for them, not for the
            // (virtual) timers.
            Some(_) if self.pool.in_flight() > 0 => None,
            Some(_) => Some(Duration::ZERO),
            None => timeout,
        };
        let virtual_jump = virtual_jump.filter(|_| wait == Some(Duration::ZERO));
        {
            let mut reactor = self.reactor.borrow_mut();
            if reactor.must_poll(wait, woken) {
                // Time spent waiting is the loop's idle time (Node's
                // eventLoopUtilization); zero-timeout polls do not count.
                let waits = wait != Some(Duration::ZERO);
                let started = (waits && !self.clock.is_virtual()).then(Instant::now);
                if OBSERVED
                    && waits
                    && let Some(o) = &self.observer
                {
                    o.poll_wait(true);
                }
                if let Err(e) = reactor.poll(wait, &mut fired) {
                    log::error!(target: "evloop", "poll failed: {e}");
                }
                if let Some(t) = started {
                    self.idle_ns
                        .set(self.idle_ns.get() + t.elapsed().as_nanos() as u64);
                }
                if OBSERVED && let Some(o) = &self.observer {
                    o.poll_wait(false);
                }
                // As libuv after epoll_wait: I/O callbacks see the time they
                // woke at, so their timers do not count the wait.
                self.clock.invalidate();
            }
        }
        if let Some(t) = virtual_jump
            && fired.is_empty()
            && !self.inbox.woken()
        {
            // Nothing can happen before the next timer: skip the wait, which
            // counts as idle time as the wait would have.
            let from = self.clock.now_ns();
            self.clock.jump_to(from + t.as_nanos() as u64);
            self.idle_ns
                .set(self.idle_ns.get() + (self.clock.now_ns() - from));
        }
        let mut ran = 0;
        // I/O callbacks, in the order the OS reported them. A handler looked
        // up after an earlier callback closed its source is simply gone.
        // The queue stays in the core and each event is popped before its
        // callback: if a callback panics and the panic leaves `run` (no
        // uncaught-panic handler), the next poll starts with the events not
        // yet handled. Sources are edge-triggered, so the OS would not report
        // them again.
        *self.fired.borrow_mut() = fired;
        while let Some((token, readable, writable)) = pop(&self.fired) {
            let handler = self.reactor.borrow().handler(token);
            if let Some(handler) = handler {
                self.invoke_fn::<OBSERVED>(Location::caller(), move || {
                    handler.ready(readable, writable)
                });
                ran += 1;
            }
        }
        if self.inbox.take_woken() {
            // A panicking post leaves the rest in the channel with the wake
            // flag already cleared: the guard sets it again, so the next
            // poll runs them rather than sleeping with them queued.
            let rearm = RearmOnUnwind(&self.inbox);
            for _ in 0..self.inbox.pending() {
                let Some(job) = self.inbox.try_recv() else {
                    break;
                };
                self.invoke_fn::<OBSERVED>(job.site, job.f);
                ran += 1;
            }
            std::mem::forget(rearm);
        }
        ran
    }

    /// Drops every queued callback and timer, closes every socket and server
    /// still registered, and terminates the workers that report here,
    /// letting destructors that call back into the loop see it (they may
    /// queue more; repeat until quiet).
    fn clear(&self) {
        let mut dropped = 0;
        for _ in 0..16 {
            dropped = 0;
            let micro = std::mem::take(&mut *self.microtasks.borrow_mut());
            dropped += micro.len();
            drop(micro);
            for q in [&self.ticks, &self.pending, &self.closing] {
                let items = std::mem::take(&mut *q.borrow_mut());
                dropped += items.len();
                drop(items);
            }
            dropped += self.executor.clear();
            dropped += self.pool.clear();
            let imm = self.immediates.borrow_mut().take_all();
            dropped += imm.len();
            drop(imm);
            if self.timers.borrow().len() > 0 {
                let timers = std::mem::replace(&mut *self.timers.borrow_mut(), Timers::new());
                dropped += timers.len();
                drop(timers);
            }
            dropped += self.close_sources();
            dropped += run_drop_hooks(self.id);
            if dropped == 0 {
                break;
            }
        }
        let left = self.queued_items();
        if dropped > 0 && left > 0 {
            // Destructors that queue new work every time they are dropped:
            // what is left drops with the loop's fields, with no loop current.
            log::error!(
                target: "evloop",
                "event loop dropped while destructors kept queueing work: {left} item(s) \
                 left after 16 rounds of clearing, dropped with no loop current"
            );
        }
        let posted = self.inbox.pending();
        if posted > 0 {
            log::warn!(
                target: "evloop",
                "event loop dropped with {posted} cross-thread post(s) not run"
            );
        }
    }
}

impl Core {
    /// Everything queued or registered in the loop's own tables (not the
    /// cross-thread channel), for the teardown check in `clear`.
    fn queued_items(&self) -> usize {
        let queues: usize = [&self.ticks, &self.pending, &self.closing]
            .iter()
            .map(|q| q.borrow().len())
            .sum();
        queues
            + self.microtasks.borrow().len()
            + self.executor.live()
            + self.pool.pending()
            + self.immediates.borrow().live()
            + self.timers.borrow().len()
            + self.reactor.borrow().counts().1
    }
}

/// See the end of `Core::poll`: dropped only by an unwind.
struct RearmOnUnwind<'a>(&'a Inbox);

impl Drop for RearmOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.rearm();
    }
}

fn pop<T>(queue: &RefCell<VecDeque<T>>) -> Option<T> {
    queue.borrow_mut().pop_front()
}

#[inline]
fn trace_phase(core: &Core, phase: &str, ran: usize) {
    if ran > 0 {
        log::trace!(
            target: "evloop::trace",
            "iteration {} {phase}: {ran} callback(s)",
            core.iteration.get()
        );
    }
}

/// Configures an [`EventLoop`].
#[must_use = "a Builder does nothing until build() is called"]
pub struct Builder {
    virtual_time: bool,
    panic_handler: Option<PanicHandler>,
    threadpool_size: Option<usize>,
    trace: TraceConfig,
}

impl Builder {
    /// Virtual time: the loop's clock stands still while callbacks run, and
    /// when the loop would otherwise block waiting for a timer it jumps
    /// straight to that timer's deadline (like tokio's paused clock or Node's
    /// `MockTimers`). Timer-heavy programs run instantly with deterministic
    /// timestamps, and every ordering rule stays the same. The loop still
    /// blocks for real when only I/O or cross-thread handles are pending.
    ///
    /// `EVLOOP_VIRTUAL_TIME=1` in the environment turns it on for every loop
    /// built without it (so an unchanged program, or `evloop::run`, can be
    /// replayed instantly and deterministically, as the example tests do).
    pub fn virtual_time(mut self, on: bool) -> Builder {
        self.virtual_time = on;
        self
    }

    /// Installs a handler for panics escaping loop callbacks, like
    /// `process.on('uncaughtException')`; see [`set_uncaught_panic_handler`].
    pub fn on_uncaught_panic(mut self, handler: impl FnMut(UncaughtPanic) + 'static) -> Builder {
        self.panic_handler = Some(Box::new(handler));
        self
    }

    /// The number of thread-pool threads (1 to 1024) for
    /// [`queue_work`](crate::queue_work) and [`fs`](crate::fs). Without it,
    /// `EVLOOP_THREADPOOL_SIZE` is read, and without that the pool has 4
    /// threads. The threads start on the first job.
    pub fn threadpool_size(mut self, threads: usize) -> Builder {
        self.threadpool_size = Some(threads);
        self
    }

    /// Logs each phase that ran callbacks (with how many and how long) and
    /// each callback's scheduling site, under the `log` target
    /// `evloop::trace` at trace level (`RUST_LOG=evloop::trace=trace` with
    /// `env_logger`). Also on with `EVLOOP_TRACE=1`.
    pub fn trace(mut self, on: bool) -> Builder {
        self.trace.log = on;
        self
    }

    /// Writes a Chrome trace (Trace Event Format, which Perfetto and
    /// chrome://tracing open) to `path` when the loop is dropped or
    /// [`EventLoop::write_trace`] is called: a track for the loop with phases
    /// and callbacks as slices named by their scheduling site, a track per
    /// pool thread with its jobs, and arrows from where a timer or immediate
    /// was scheduled to where it ran. Also on with `EVLOOP_TRACE_FILE=path`.
    pub fn trace_file(mut self, path: impl Into<std::path::PathBuf>) -> Builder {
        self.trace.chrome = Some(path.into());
        self
    }

    /// Starts a watchdog thread that logs a warning (target
    /// `evloop::watchdog`), once per stall, when the loop goes longer than
    /// `threshold` without reaching its poll phase, naming the scheduling
    /// site of the callback that is running. Node's "CPU-heavy work blocks
    /// the loop" pitfall, made visible. Also on with `EVLOOP_WATCHDOG_MS=100`.
    pub fn watchdog(mut self, threshold: Duration) -> Builder {
        self.trace.watchdog = Some(threshold);
        self
    }

    /// Teaching mode: [`Snapshot`]s also list where each waiting callback
    /// was scheduled.
    pub fn teaching(mut self, on: bool) -> Builder {
        self.trace.teaching = on;
        self
    }

    /// Creates the loop.
    ///
    /// # Errors
    /// `InvalidInput` if the thread-pool size (from
    /// [`Builder::threadpool_size`] or `EVLOOP_THREADPOOL_SIZE`) is not a
    /// whole number from 1 to 1024, or `EVLOOP_WATCHDOG_MS` is set but not a
    /// whole number of milliseconds from 1 up; or the OS refusing an epoll
    /// instance or an eventfd (e.g. out of file descriptors).
    pub fn build(self) -> io::Result<EventLoop> {
        let virtual_time = self.virtual_time
            || std::env::var("EVLOOP_VIRTUAL_TIME").is_ok_and(|v| v != "0" && !v.is_empty());
        let pool_size = match self.threadpool_size {
            Some(n) => pool::check_size(Some(n), &format!("threadpool_size({n})"))?,
            None => pool::size_from_env()?.unwrap_or(pool::DEFAULT_THREADPOOL_SIZE),
        };
        let (reactor, waker) = Reactor::new()?;
        let trace = self.trace.with_env()?;
        let observer = Observer::new(&trace);
        let core = |this: &Weak<Core>| Core {
            id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            this: this.clone(),
            clock: Clock::new(virtual_time),
            ticks: RefCell::new(VecDeque::new()),
            microtasks: RefCell::default(),
            timers: RefCell::new(Timers::new()),
            immediates: RefCell::new(Immediates::new()),
            executor: Executor::new(),
            pool: Pool::new(pool_size, observer.as_ref().and_then(Observer::pool_sink)),
            pending: RefCell::new(VecDeque::new()),
            closing: RefCell::new(VecDeque::new()),
            reactor: RefCell::new(reactor),
            fired: RefCell::new(VecDeque::new()),
            inbox: Inbox::new(waker),
            stop: Cell::new(false),
            iteration: Cell::new(0),
            phase: Cell::new(Phase::Main),
            observer,
            teaching: trace.teaching,
            names: RefCell::new(std::collections::HashMap::new()),
            idle_ns: Cell::new(0),
            panic_handler: RefCell::new(self.panic_handler),
        };
        Ok(EventLoop {
            core: Rc::new_cyclic(core),
        })
    }
}

/// A single-threaded event loop with Node's phases and queues.
///
/// The loop is `!Send`: it lives on the thread that created it. While it runs
/// (or is [entered](EventLoop::enter)) it is the thread's *current* loop, which
/// the free functions ([`set_timeout`](crate::set_timeout),
/// [`set_immediate`](crate::set_immediate), ...) act on. At most one loop runs
/// on a thread at a time.
///
/// # Phases
/// Each iteration runs, in order: update the cached time → **timers** →
/// **pending** callbacks → idle/prepare → **poll** (I/O and cross-thread posts;
/// blocks only when nothing else is due) → **check** (immediates) → **close**
/// callbacks. After every callback the next-tick queue drains, then the
/// microtask queue, until both are empty.
///
/// # Panics in callbacks
/// By default a panic in any loop callback behaves like Node's uncaught
/// exception: the run stops and the panic continues to unwind out of
/// [`EventLoop::run`] (or [`run_main`](EventLoop::run_main), or
/// [`crate::run`]). The loop is left consistent: it can be dropped without
/// leaks, or run again to go on with what is still queued. With a handler
/// ([`set_uncaught_panic_handler`], [`Builder::on_uncaught_panic`]) the
/// handler receives the panic right away and the loop goes on, like
/// `process.on('uncaughtException')`. A panic in the main closure of
/// `run_main`/`enter` itself is ordinary Rust code on the caller's stack and
/// always unwinds to the caller.
///
/// # Dropping
/// Dropping the loop drops everything still queued (timers, immediates,
/// ticks, microtasks, tasks, thread-pool callbacks) without running it,
/// closes the sockets and servers still open (dropping their handlers) and
/// terminates the workers it spawned; destructors that call back into the
/// loop (e.g. to clear a timer) see it as the current loop and are harmless.
/// Cross-thread posts fail with [`PostError`](crate::PostError) from then on.
pub struct EventLoop {
    core: Rc<Core>,
}

impl EventLoop {
    /// Creates a loop with the default configuration (real time, no panic
    /// handler).
    ///
    /// # Errors
    /// As [`Builder::build`].
    pub fn new() -> io::Result<EventLoop> {
        EventLoop::builder().build()
    }

    /// Starts configuring a loop.
    pub fn builder() -> Builder {
        Builder {
            virtual_time: false,
            panic_handler: None,
            threadpool_size: None,
            trace: TraceConfig::default(),
        }
    }

    /// Runs `main` as the "main script" (the loop is current, so it can
    /// schedule work), drains next ticks and microtasks, then runs the loop
    /// until nothing referenced is pending. Returns `main`'s result.
    ///
    /// # Panics
    /// If a loop is already running on this thread; and as described under
    /// "Panics in callbacks" on [`EventLoop`].
    pub fn run_main<R>(&self, main: impl FnOnce() -> R) -> R {
        let result = self.enter(main);
        self.run(RunMode::Default);
        result
    }

    /// Runs `main` as an async main: spawns it (its first poll runs right
    /// away, like an async function call), runs the loop until nothing
    /// referenced is pending, and returns its output.
    ///
    /// # Panics
    /// If `main` is still pending when the loop has nothing left that could
    /// wake it (it awaits something that never completes, like a promise
    /// that never settles); and as [`EventLoop::run_main`].
    pub fn run_async<F>(&self, main: F) -> F::Output
    where
        F: std::future::Future + 'static,
        F::Output: 'static,
    {
        let mut task = self.enter(|| crate::rt::executor::spawn(main));
        self.run(RunMode::Default);
        let out = self.enter(|| task.take_output());
        out.unwrap_or_else(|| {
            panic!(
                "evloop: the async main is still pending, but nothing can wake it \
                 (it awaits something that never completes)"
            )
        })
    }

    /// Makes this the current loop while `f` runs, then drains next ticks and
    /// microtasks, as after any callback. The loop does not iterate: use this
    /// to schedule work on a loop that an embedding host drives with
    /// [`RunMode::NoWait`].
    ///
    /// # Panics
    /// If a loop is already running on this thread.
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = Entered::new(&self.core);
        self.core.clock.invalidate();
        let result = f();
        if let Err(payload) = self.core.drain::<false>() {
            resume_unwind(payload);
        }
        result
    }

    /// Runs the loop in the given mode (`uv_run`). Returns whether the loop is
    /// still alive: `true` means referenced work is pending and another call
    /// would do something. `Once` and `NoWait` end their iteration with a
    /// second timers phase, as libuv ≥ 1.45 does, so a `Once` run that blocked
    /// until a timer's deadline also runs that timer. After [`stop`] the loop returns at the end of the
    /// current iteration, and the stop request is then cleared.
    ///
    /// # Panics
    /// If a loop is already running on this thread; and as described under
    /// "Panics in callbacks" on [`EventLoop`].
    pub fn run(&self, mode: RunMode) -> bool {
        let _entered = Entered::new(&self.core);
        let core = &self.core;
        // Ticks and microtasks left behind by a panic that stopped the last
        // run belong before any other callback.
        if let Err(payload) = core.drain::<false>() {
            resume_unwind(payload);
        }
        let mut alive = core.alive();
        while alive && !core.stop.get() {
            core.iterate(mode);
            if mode != RunMode::Default {
                // libuv >= 1.45 ends a single iteration with another timers
                // phase, so a Once run that blocked for a timer also runs it.
                core.clock.invalidate();
                let n = timer::run_timers::<false>(core);
                trace_phase(core, "timers", n);
                alive = core.alive();
                break;
            }
            alive = core.alive();
        }
        core.stop.set(false);
        if !alive && core.executor.pending() > 0 && mode == RunMode::Default {
            log::warn!(
                target: "evloop",
                "{} task(s) still pending, but nothing can wake them (like promises \
                 that never settle); the loop exits",
                core.executor.pending()
            );
        }
        alive
    }

    /// Asks the loop to return from [`EventLoop::run`] after the current
    /// iteration (`uv_stop`); the poll phase of that iteration does not block.
    pub fn stop(&self) {
        self.core.stop.set(true);
    }

    /// Whether anything referenced is pending: timers, immediates, pending or
    /// closing callbacks, referenced cross-thread handles or unrun posts.
    pub fn is_alive(&self) -> bool {
        self.core.alive()
    }

    /// Tasks in the loop's table: pending ones, and finished ones whose
    /// output has not been taken yet. Zero once every task is done and
    /// awaited or detached (tests use it to check nothing leaks).
    pub fn live_tasks(&self) -> usize {
        self.core.executor.live()
    }

    /// Thread-pool jobs (including file system operations) whose callback
    /// has not run yet. Zero when all work has completed.
    pub fn live_work(&self) -> usize {
        self.core.pool.pending()
    }

    /// A [`Snapshot`] of the loop's queues and handles, between runs.
    pub fn snapshot(&self) -> Snapshot {
        self.core.snapshot()
    }

    /// Writes the Chrome trace file now (see [`Builder::trace_file`]); it is
    /// also written when the loop is dropped.
    ///
    /// # Errors
    /// The error writing the file; `Ok` if no trace file was asked for.
    pub fn write_trace(&self) -> io::Result<()> {
        match &self.core.observer {
            Some(o) => o.flush(),
            None => Ok(()),
        }
    }

    /// A referenced cross-thread handle to this loop.
    pub fn handle(&self) -> LoopHandle {
        self.core.inbox.handle()
    }

    /// The loop's cached time in milliseconds since it was created (`uv_now`).
    pub fn now(&self) -> u64 {
        self.core.clock.now_ms()
    }

    /// The file descriptor an embedding host should watch for readability
    /// (`uv_backend_fd`): the loop's epoll instance. When it is readable, or
    /// when [`EventLoop::backend_timeout`] has passed, call
    /// `run(RunMode::NoWait)`.
    pub fn backend_fd(&self) -> RawFd {
        self.core.reactor.borrow().backend_fd()
    }

    /// How long an embedding host may sleep before the loop has due work
    /// (`uv_backend_timeout`): `Some(ZERO)` if work is due now or nothing is
    /// pending, `None` if only I/O or cross-thread posts can wake it.
    pub fn backend_timeout(&self) -> Option<Duration> {
        self.core.clock.invalidate();
        self.core.poll_timeout()
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        let free = CURRENT.with(Cell::get).is_none();
        let _entered = free.then(|| Entered::new(&self.core));
        self.core.clear();
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("id", &self.core.id)
            .field("iteration", &self.core.iteration.get())
            .finish()
    }
}

/// Creates a loop, runs `main` as its main script, then runs the loop until
/// nothing referenced is pending, and returns `main`'s result. The shortest
/// way to run a Node-style program.
///
/// # Panics
/// If the loop cannot be created (no epoll or eventfd available), if a loop
/// is already running on this thread, or as described under "Panics in
/// callbacks" on [`EventLoop`].
///
/// ```
/// evloop::run(|| {
///     evloop::set_timeout(5, || println!("later"));
///     println!("first");
/// });
/// ```
pub fn run<R>(main: impl FnOnce() -> R) -> R {
    EventLoop::new()
        .unwrap_or_else(|e| panic!("evloop: cannot create an event loop: {e}"))
        .run_main(main)
}

/// Creates a loop, runs `main` on it as an async main (see
/// [`EventLoop::run_async`]) and returns its output.
///
/// # Panics
/// As [`EventLoop::run_async`], and if the loop cannot be created.
///
/// ```
/// let answer = evloop::run_async(async {
///     evloop::yield_now().await;
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn run_async<F>(main: F) -> F::Output
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    EventLoop::new()
        .unwrap_or_else(|e| panic!("evloop: cannot create an event loop: {e}"))
        .run_async(main)
}

/// The current loop's cached time in milliseconds since it was created
/// (`uv_now`); constant within one callback unless the loop iterates.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn now() -> u64 {
    with_core("now", |core| core.clock.now_ms())
}

/// The current loop's high-resolution clock in nanoseconds since it was
/// created (`process.hrtime.bigint()`, relative). Under virtual time it is the
/// virtual clock.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn hrtime() -> u64 {
    with_core("hrtime", |core| core.clock.hrtime_ns())
}

/// Holds the current loop for `duration`, as CPU-bound work in a callback
/// does (the `while (Date.now() < end) {}` of Node's examples): nothing else
/// on the loop runs meanwhile, and timers that come due during it wait for
/// the next timers phase.
///
/// Under real time the thread sleeps. Under virtual time, where the clock
/// otherwise stands still while callbacks run, the clock moves forward by
/// `duration` at once: a program that blocks its loop orders as it would in
/// real time, instantly and the same on every run. In both, [`now`] keeps
/// the value this iteration already read (as `uv_now` does after a busy
/// wait); [`hrtime`] and new timers see the later time.
///
/// ```
/// let lp = evloop::EventLoop::builder().virtual_time(true).build().unwrap();
/// let late = lp.run_main(|| {
///     evloop::block_for(std::time::Duration::from_millis(50));
///     evloop::hrtime() / 1_000_000
/// });
/// assert_eq!(late, 50);
/// ```
///
/// # Panics
/// If no event loop is running on this thread.
pub fn block_for(duration: Duration) {
    let virtual_clock = with_core("block_for", |core| {
        core.clock.advance(duration.as_nanos() as u64)
    });
    if !virtual_clock {
        std::thread::sleep(duration);
    }
}

/// Asks the current loop to stop after this iteration (`uv_stop`).
///
/// # Panics
/// If no event loop is running on this thread.
pub fn stop() {
    with_core("stop", |core| core.stop.set(true));
}

/// A referenced cross-thread handle to the current loop.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn handle() -> LoopHandle {
    with_core("handle", |core| core.inbox.handle())
}

/// Installs (or with `None`, removes) the current loop's handler for panics
/// escaping callbacks, like `process.on('uncaughtException')`: the handler
/// runs right away with the panic, then the loop goes on with the next
/// callback. A panic inside the handler itself unwinds out of the run.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn set_uncaught_panic_handler(handler: Option<Box<dyn FnMut(UncaughtPanic)>>) {
    let old = with_core("set_uncaught_panic_handler", |core| {
        std::mem::replace(&mut *core.panic_handler.borrow_mut(), handler)
    });
    drop(old);
}

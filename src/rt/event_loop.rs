//! The loop's public handle, [`EventLoop`], its configuration, [`Builder`]
//! (from code or the environment), and [`run`] / [`run_async`], which make
//! a loop and run a main script on it; the free functions that act on the
//! current loop ([`now`](crate::now), [`stop`](crate::stop), ...) are in
//! `current`. What a loop is and how it runs live beside this file: `core` (its state, and `Core::new`, which
//! assembles it), `run` (an iteration in libuv's phase order,
//! `Core::iterate_as`), `poll`, `drain`, `panic` (the panic policy) and
//! `context` (the current loop).
//!
//! `Builder` shares this file with `EventLoop` because each names the other
//! in its public signature (`EventLoop::builder` returns a `Builder`,
//! `Builder::build` an `EventLoop`, and `EventLoop::new` calls both): in two
//! modules they would import each other. (Moving just those methods out is
//! no way round it: each type's public methods stay in one `impl` block, or
//! the documented API, `docs/public-api.txt`, changes.) Both only read the
//! configuration; the loop's `Core` is put together by `Core::new`, below
//! them.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::time::Duration;

use crate::rt::callback::Site;
use crate::rt::context::{CURRENT, Entered, with_core};
use crate::rt::core::Core;
use crate::rt::env;
use crate::rt::explore::reexec;
use crate::rt::panic::{PanicHandler, UncaughtPanic};
use crate::rt::pool::threads as pool;
use crate::rt::process::ProcessWarning;
use crate::rt::rejection::{self, UnhandledRejections};
use crate::rt::remote::LoopHandle;
use crate::rt::run::RunMode;
use crate::rt::schedule::{self, Choice, Source};
use crate::rt::trace::counts::Snapshot;
use crate::rt::trace::observer::TraceConfig;
use crate::rt::trace::replay::From;
use crate::rt::walk::HandleInfo;

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
/// **pending** callbacks → **idle/prepare** handles ([`Idle`](crate::Idle),
/// [`Prepare`](crate::Prepare)) → **poll** (I/O and cross-thread posts;
/// blocks only when nothing else is due) → **check** ([`Check`](crate::Check)
/// handles, then immediates) → **close** callbacks. After every callback the next-tick queue drains, then the
/// microtask queue, until both are empty.
///
/// # Panics in callbacks
/// By default a panic in any loop callback behaves like Node's uncaught
/// exception: the run stops and the panic continues to unwind out of
/// [`EventLoop::run`] (or [`run_main`](EventLoop::run_main), or
/// [`crate::run`]). The loop is left consistent: it can be dropped without
/// leaks, or run again to go on with what is still queued. With a handler
/// ([`set_uncaught_panic_handler`](crate::set_uncaught_panic_handler),
/// [`Builder::on_uncaught_panic`]) the handler receives the panic right away
/// and the loop goes on, like `process.on('uncaughtException')`. A panic in
/// the main closure of `run_main`/`enter` itself is ordinary Rust code on
/// the caller's stack and always unwinds to the caller.
///
/// # Dropping
/// Dropping the loop drops everything still queued (timers, immediates,
/// ticks, microtasks, tasks, thread-pool callbacks) without running it,
/// closes the sockets and servers still open (dropping their handlers) and
/// terminates the workers it spawned; destructors that call back into the
/// loop (e.g. to clear a timer) see it as the current loop and are harmless.
/// Cross-thread posts fail with [`PostError`](crate::PostError) from then on.
pub struct EventLoop {
    pub(in crate::rt) core: Rc<Core>,
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
            unhandled_rejections: None,
            post_limit: crate::rt::remote::DEFAULT_POST_LIMIT,
            schedule: None,
        }
    }

    /// Runs `main` as the "main script" (the loop is current, so it can
    /// schedule work), drains next ticks and microtasks, then runs the loop
    /// until nothing referenced is pending. Returns `main`'s result.
    ///
    /// Then, as Node's process ends: when the loop runs empty it emits
    /// [`process::BeforeExit`](crate::process::BeforeExit), whose listeners
    /// may schedule more work (the loop then runs again, and emits it again
    /// when it empties); then [`process::Exit`](crate::process::Exit), once,
    /// after which no next tick runs (its microtasks still do). A run ended
    /// by [`stop`](Self::stop) skips `BeforeExit`; a panic nobody handled
    /// unwinds out with neither.
    ///
    /// # Panics
    /// If a loop is already running on this thread; and as described under
    /// "Panics in callbacks" on [`EventLoop`].
    #[track_caller]
    pub fn run_main<R>(&self, main: impl FnOnce() -> R) -> R {
        let site = std::panic::Location::caller();
        let result = self.enter(main);
        run_to_exit(&self.core, site);
        result
    }

    /// Runs `main` as an async main: spawns it (its first poll runs right
    /// away, like an async function call), runs the loop until nothing
    /// referenced is pending, and returns its output. The process events
    /// are as for [`EventLoop::run_main`].
    ///
    /// # Panics
    /// If `main` is still pending when the loop has nothing left that could
    /// wake it (it awaits something that never completes, like a promise
    /// that never settles); and as [`EventLoop::run_main`].
    #[track_caller]
    pub fn run_async<F>(&self, main: F) -> F::Output
    where
        F: std::future::Future + 'static,
        F::Output: 'static,
    {
        let site = std::panic::Location::caller();
        let mut task = self.enter(|| crate::rt::executor::spawn(main));
        run_to_exit(&self.core, site);
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
    #[track_caller]
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = Entered::new(&self.core);
        self.core.clock.invalidate();
        let Some(o) = &self.core.observer else {
            let result = f();
            if let Err(payload) = self.core.drain::<false>() {
                resume_unwind(payload);
            }
            return result;
        };
        // Observed: the main script is the first frame of the call stack.
        o.from(From::Main);
        self.core.observe_begin(o, std::panic::Location::caller());
        let result = catch_unwind(AssertUnwindSafe(f));
        self.core.observe_end(o, result.is_err());
        let result = result.unwrap_or_else(|payload| resume_unwind(payload));
        if let Err(payload) = self.core.drain::<true>() {
            resume_unwind(payload);
        }
        result
    }

    /// Runs the loop in the given mode (`uv_run`). Returns whether the loop is
    /// still alive: `true` means referenced work is pending and another call
    /// would do something. The modes follow libuv 1.46's `uv_run` (what
    /// Node 20 ships): `Default` updates the time and runs the timers once
    /// before the first iteration; every iteration (pending, poll, check,
    /// close) ends by updating the time and running the timers, so `Once` and
    /// `NoWait` run the timers once, after the close phase, and a `Once` run
    /// that blocked until a timer's deadline also runs that timer. A run of a
    /// loop that is not alive still updates its time ([`now`](Self::now)).
    /// After [`stop`](crate::stop) the loop returns at the end of the current iteration
    /// (its timers phase included), and the stop request is then cleared.
    ///
    /// # Panics
    /// If a loop is already running on this thread; and as described under
    /// "Panics in callbacks" on [`EventLoop`].
    pub fn run(&self, mode: RunMode) -> bool {
        self.core.run(mode)
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

    /// The choices a [seeded](Builder::seed) loop has taken so far, in
    /// order; empty without a seed. [`explore`](crate::explore) reports
    /// them with each outcome.
    pub fn choices(&self) -> Vec<Choice> {
        self.core
            .schedule
            .as_ref()
            .map_or_else(Vec::new, |s| s.choices())
    }

    /// A [`Snapshot`] of the loop's queues and handles, between runs.
    pub fn snapshot(&self) -> Snapshot {
        self.core.snapshot()
    }

    /// Every handle of the loop, between runs: see [`walk`](crate::walk).
    pub fn walk(&self) -> Vec<HandleInfo> {
        self.core.walk()
    }

    /// Writes the trace events this loop has buffered to its Chrome trace
    /// file now (see [`Builder::trace_file`]: the file is also written as
    /// the loop runs, and ended when it is dropped).
    ///
    /// # Errors
    /// The error creating or writing the file (the buffered events are then
    /// dropped); `Ok` if no trace file was asked for.
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

    /// How long an embedding host may sleep before the loop has work due
    /// (`uv_backend_timeout`). After each `run(RunMode::NoWait)`, and after
    /// giving the loop work ([`enter`](EventLoop::enter)), a host asks again
    /// and blocks in its own poller, watching [`EventLoop::backend_fd`] and
    /// its own sources, for at most this long:
    ///
    /// - `Some(ZERO)`: work is due now (an immediate, a started idle
    ///   handle, pending or close callbacks, a [`stop`](EventLoop::stop)):
    ///   run again without sleeping.
    /// - `Some(d)`: the next timer is due in `d`.
    /// - `None`, no deadline: only the backend fd (I/O, a post from another
    ///   thread) can bring work, or the loop has nothing left to do
    ///   ([`is_alive`](EventLoop::is_alive) is `false`; `run` then does
    ///   nothing, so unreferenced timers and immediates wait too). A host
    ///   that outlives evloop's work blocks on its own sources and never
    ///   spins. libuv returns 0 for a loop that is not alive (design.md,
    ///   "Known differences").
    ///
    /// ```
    /// use std::time::Duration;
    /// let lp = evloop::EventLoop::new().unwrap();
    /// assert_eq!(lp.backend_timeout(), None); // nothing to do: no deadline
    /// let _t = lp.enter(|| evloop::set_timeout(50, || {}));
    /// assert!(lp.backend_timeout().unwrap() <= Duration::from_millis(50));
    /// lp.enter(|| evloop::set_immediate(|| {}));
    /// assert_eq!(lp.backend_timeout(), Some(Duration::ZERO));
    /// ```
    pub fn backend_timeout(&self) -> Option<Duration> {
        self.core.clock.invalidate();
        self.core.host_timeout()
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

/// Configures an [`EventLoop`].
///
/// `build()` also reads these environment variables, each only for what the
/// builder left unset (so an unchanged program, or [`run`](crate::run), can
/// be configured from outside). Unset, empty or only whitespace is "not
/// set"; a value is trimmed; anything else than the accepted values (or a
/// value that is not UTF-8) makes `build()` fail with `InvalidInput` naming
/// the variable and the value, never a silent default.
///
/// | Variable | Accepted values | Same as |
/// |---|---|---|
/// | `EVLOOP_VIRTUAL_TIME` | a switch | [`Builder::virtual_time`] |
/// | `EVLOOP_TRACE` | a switch | [`Builder::trace`] |
/// | `EVLOOP_STEP` | a switch | the terminal stepper (README) |
/// | `EVLOOP_THREADPOOL_SIZE` | a whole number from 1 to 1024 | [`Builder::threadpool_size`] |
/// | `EVLOOP_WATCHDOG_MS` | a whole number of milliseconds from 1 up | [`Builder::watchdog`] |
/// | `EVLOOP_UNHANDLED_REJECTIONS` | `throw`, `strict`, `warn`, `none`, `warn-with-error-code` | [`Builder::unhandled_rejections`] |
/// | `EVLOOP_TRACE_FILE` | a path | [`Builder::trace_file`] |
/// | `EVLOOP_REPLAY` | a path | [`Builder::replay`] |
/// | `EVLOOP_SEED` | a whole number from 0 to 2^64 - 1 | [`Builder::seed`] |
/// | `EVLOOP_EXPLORE` | a whole number of runs (`0`: off) | [`explore`](crate::explore), from outside: see below |
///
/// A switch is on with `1`, `true`, `on` or `yes` and off with `0`,
/// `false`, `off` or `no`, in any case; a switch can only turn on what the
/// builder left off.
///
/// `EVLOOP_EXPLORE=N` explores an unchanged program: the first loop built
/// without [`Builder::seed`] does not run it. Instead the process runs its
/// own executable again with the same arguments (stdin from `/dev/null`,
/// stderr discarded), one child at a time, up to `N` times, each with
/// `EVLOOP_EXPLORE` removed and `EVLOOP_SEED` set, walking the choice tree
/// as [`explore`](crate::explore) does (a branch whose seed does not fit
/// in 64 bits is skipped, leaving the exploration incomplete). It groups
/// the runs by standard output and exit status, prints a report on
/// standard output (each distinct outcome with the seed that replays it,
/// its run count and lines), and exits the process: status 0 when every
/// run exited with 0, else 1. A child still running after 60 s is killed,
/// and its outcome says so. Every loop of a child takes the seed; the
/// exploration follows the first one's choices. What the program does
/// before its first loop, the parent does too, and exits without what
/// would have come after (its clean-up). It is meant for a program's own
/// binary: in a test, [`explore`](crate::explore) explores in process.
#[must_use = "a Builder does nothing until build() is called"]
pub struct Builder {
    pub(in crate::rt) virtual_time: bool,
    pub(in crate::rt) panic_handler: Option<PanicHandler>,
    pub(in crate::rt) threadpool_size: Option<usize>,
    pub(in crate::rt) trace: TraceConfig,
    pub(in crate::rt) unhandled_rejections: Option<UnhandledRejections>,
    pub(in crate::rt) post_limit: usize,
    pub(in crate::rt) schedule: Option<Source>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("virtual_time", &self.virtual_time)
            .field("panic_handler", &self.panic_handler.is_some())
            .field("threadpool_size", &self.threadpool_size)
            .field("trace", &self.trace)
            .field("unhandled_rejections", &self.unhandled_rejections)
            .field("post_limit", &self.post_limit)
            .finish()
    }
}

impl Builder {
    /// Virtual time: the loop's clock stands still while callbacks run, and
    /// when the loop would otherwise block waiting for a timer it jumps
    /// straight to that timer's deadline (like tokio's paused clock or Node's
    /// `MockTimers`). Timer-heavy programs run instantly with deterministic
    /// timestamps, and every ordering rule stays the same. The loop still
    /// blocks for real when only I/O or cross-thread handles are pending.
    ///
    /// `EVLOOP_VIRTUAL_TIME=1` (or `true`, `on`, `yes`; see [`Builder`]) in
    /// the environment turns it on for every loop built without it (so an unchanged program, or `evloop::run`, can be
    /// replayed instantly and deterministically, as the example tests do).
    pub fn virtual_time(mut self, on: bool) -> Builder {
        self.virtual_time = on;
        self
    }

    /// Installs a handler for panics escaping loop callbacks, like
    /// `process.on('uncaughtException')`; see
    /// [`set_uncaught_panic_handler`](crate::set_uncaught_panic_handler).
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

    /// What the loop does with a rejection nobody handled in time (a
    /// [`spawn_fallible`](crate::spawn_fallible) task that failed with
    /// nothing awaiting it), Node's `--unhandled-rejections`: see
    /// [`UnhandledRejections`]. Without it, `EVLOOP_UNHANDLED_REJECTIONS`
    /// (`throw`, `strict`, `warn`, `none`, `warn-with-error-code`) is read,
    /// and without that it is Node 20's default, `throw`.
    pub fn unhandled_rejections(mut self, mode: UnhandledRejections) -> Builder {
        self.unhandled_rejections = Some(mode);
        self
    }

    /// Logs each phase that ran callbacks (with how many and how long) and
    /// each callback's scheduling site, under the `log` target
    /// `evloop::trace` at trace level (`RUST_LOG=evloop::trace=trace` with
    /// `env_logger`). Also on with `EVLOOP_TRACE=1` (a switch: see
    /// [`Builder`] and [`trace_from_env`](crate::trace_from_env)).
    pub fn trace(mut self, on: bool) -> Builder {
        self.trace.log = on;
        self
    }

    /// Writes a Chrome trace (Trace Event Format, which Perfetto and
    /// chrome://tracing open) to `path`: a track for the loop with phases
    /// and callbacks as slices named by their scheduling site, a track per
    /// pool thread with its jobs, and arrows from where a timer or immediate
    /// was scheduled to where it ran. Also on with `EVLOOP_TRACE_FILE=path`.
    ///
    /// The file is streamed as the loop runs, so memory stays bounded
    /// however long the run: the loop buffers at most 32 KiB of events,
    /// and writes them when the buffer is full, when it is about to wait
    /// for I/O or timers, on [`EventLoop::write_trace`], when it is dropped
    /// and when the process exits. The file is a JSON array of events
    /// whose closing `]` is written when the last loop tracing to it is
    /// dropped or the process exits; a process killed before that leaves a
    /// file without it, which the format allows (Perfetto and
    /// chrome://tracing open it; a strict JSON parser reads it once `]` is
    /// appended). Every loop of the process tracing to one `path` shares
    /// the file, one track each; the file is created afresh by the
    /// process's first such loop.
    pub fn trace_file(mut self, path: impl Into<std::path::PathBuf>) -> Builder {
        self.trace.chrome = Some(path.into());
        self
    }

    /// Records every step of the run into a replay page at `path`: one
    /// self-contained HTML file that steps through the run showing the call
    /// stack, every queue, the phase, the thread pool and the program's
    /// output. Each callback's start and end, each push onto and removal
    /// from the next-tick, microtask, timer, pending, immediate and close
    /// queues, each phase, pool jobs, I/O readiness and cross-thread posts
    /// are recorded with the source line that scheduled them, and the
    /// program's standard output is captured (and still printed) so its
    /// lines sit among the steps where they were written.
    ///
    /// Every loop of the process recording to the same `path` shares the
    /// page, one track per loop. The page is written when such a loop is
    /// dropped (past 1 MB, at most once a second) and again when the
    /// process exits; a recording keeps at most 200,000 steps and then says
    /// it was cut. Output printed before the first recording loop exists is
    /// not in it. Recording changes no ordering. Also on with
    /// `EVLOOP_REPLAY=path`.
    pub fn replay(mut self, path: impl Into<std::path::PathBuf>) -> Builder {
        self.trace.replay = Some(path.into());
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

    /// The number of closures waiting in the loop's cross-thread inbox at
    /// which [`LoopHandle::try_post`] refuses more with
    /// [`TryPostError::Full`](crate::TryPostError::Full); default
    /// [`DEFAULT_POST_LIMIT`](crate::DEFAULT_POST_LIMIT) (65,536). Everything
    /// queued counts, whichever way it was posted; [`LoopHandle::post`] itself
    /// is never refused (see there why). [`build`](Builder::build) fails with
    /// `InvalidInput` for 0.
    pub fn post_limit(mut self, closures: usize) -> Builder {
        self.post_limit = closures;
        self
    }

    /// The seeded mode: every choice Node leaves to the machine is taken
    /// from `seed` instead, so the same seed gives the same run, byte for
    /// byte, and other seeds give the other orders Node can print
    /// ([`explore`](crate::explore) tries them). Implies
    /// [`virtual_time`](Builder::virtual_time). The choices
    /// ([`ChoiceKind`](crate::ChoiceKind)): whether a `setTimeout(0)` of the
    /// main script is due at the first timers phase; the order in which
    /// thread-pool jobs end (and how their results spread over poll
    /// phases) and which pool thread runs each; whether readiness events
    /// and other threads' posts are handled in the first poll phase that
    /// could or up to two later, and which sender's come first (each
    /// sender's stay in order); and how late a poll that waits for a timer
    /// wakes. The pool follows a model: jobs start in the order they were
    /// queued, each on the thread the seed picks, where it really runs; a
    /// poll phase delivers the job the seed says ends next, waiting in real
    /// time for that job, even in [`RunMode::NoWait`] (so a job whose work
    /// waits for the loop, e.g. for another job's callback, ends only under
    /// seeds that order that first; under the others, orders Node cannot
    /// print for it, the run waits for ever). Seed 0 takes every default:
    /// the run of a loop without a seed on virtual time, pool results in
    /// the order they were queued, each job on the lowest-numbered idle
    /// thread. [`EventLoop::choices`] lists the choices a run took. Also on
    /// with `EVLOOP_SEED=N`. A replay page ([`replay`](Builder::replay)) a
    /// seeded loop records to shows virtual times, and the loop records its
    /// pool jobs' starts and ends where the model puts them, so the same
    /// seed writes the same page, byte for byte.
    ///
    /// Not chosen (left to the machine as without a seed): when another
    /// thread's post, a worker's message or a peer's data first reaches
    /// the loop. A program explored for its orders lets them arrive before
    /// the loop runs (it joins the sending thread, writes the data first),
    /// so only the seed decides when the loop handles them.
    ///
    /// ```
    /// let lp = evloop::EventLoop::builder().seed(1).build().unwrap();
    /// let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    /// let (a, b) = (order.clone(), order.clone());
    /// lp.run_main(move || {
    ///     evloop::set_timeout(0, move || a.borrow_mut().push("timeout"));
    ///     evloop::set_immediate(move || b.borrow_mut().push("immediate"));
    /// });
    /// // Seed 1 picks option 1 of the first choice: the millisecond passed.
    /// assert_eq!(*order.borrow(), ["timeout", "immediate"]);
    /// assert_eq!(lp.choices()[0].picked, 1);
    /// ```
    pub fn seed(mut self, seed: u64) -> Builder {
        self.schedule = Some(Source::Seed(seed));
        self
    }

    /// Exploration's way in: a forced path of picks instead of a seed.
    pub(in crate::rt) fn path(mut self, picks: Vec<usize>) -> Builder {
        self.schedule = Some(Source::Path(picks));
        self
    }

    /// Teaching mode: [`Snapshot`](crate::Snapshot)s also list where each
    /// waiting callback was scheduled.
    pub fn teaching(mut self, on: bool) -> Builder {
        self.trace.teaching = on;
        self
    }

    /// Creates the loop.
    ///
    /// # Errors
    /// `InvalidInput` if the thread-pool size (from
    /// [`Builder::threadpool_size`] or `EVLOOP_THREADPOOL_SIZE`) is not a
    /// whole number from 1 to 1024, [`Builder::post_limit`] is 0, or one of
    /// the environment variables the builder reads (see [`Builder`]) is set
    /// to a value it does not accept: the message names the variable and
    /// the value (`EVLOOP_VIRTUAL_TIME="flase": a switch is 1, true, on or
    /// yes ...`); or the OS refusing an epoll instance or an eventfd (e.g.
    /// out of file descriptors).
    pub fn build(self) -> io::Result<EventLoop> {
        let from_env = self.schedule.is_none();
        if from_env && let Some(runs) = reexec::runs_from_env()? {
            // Exits the process unless the exploration cannot start.
            return Err(reexec::explore_children(runs));
        }
        let schedule = match self.schedule {
            Some(s) => Some(s),
            None => schedule::seed_from_env()?.map(Source::Seed),
        };
        let record = match &schedule {
            Some(_) if from_env => reexec::choice_record(),
            _ => None,
        };
        let virtual_time =
            self.virtual_time || schedule.is_some() || env::switch("EVLOOP_VIRTUAL_TIME")?;
        let pool_size = match self.threadpool_size {
            Some(n) => pool::check_size(Some(n), &format!("threadpool_size({n})"))?,
            None => pool::size_from_env()?.unwrap_or(pool::DEFAULT_THREADPOOL_SIZE),
        };
        if self.post_limit == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "post_limit(0): the inbox must take at least one closure",
            ));
        }
        let trace = self.trace.with_env()?;
        let rejections = match self.unhandled_rejections {
            Some(mode) => mode,
            None => rejection::mode_from_env()?.unwrap_or_default(),
        };
        let core = Core::new(
            virtual_time,
            pool_size,
            &trace,
            self.panic_handler,
            rejections,
            self.post_limit,
            schedule,
        )?;
        if let (Some(file), Some(schedule)) = (record, &core.schedule) {
            schedule.record_to(file);
        }
        Ok(EventLoop { core })
    }
}

/// The end of a main script (`run_main`, `run_async`), Node's
/// `SpinEventLoop`: run the loop until it is empty, emit `'beforeExit'`
/// (whose listeners may schedule more work: then run again, and emit
/// it again), warn of tasks left pending, then emit `'exit'`, after which
/// no tick runs. A run that [`stop`](crate::stop) ended (the loop still
/// alive) skips `'beforeExit'`, as `process.exit()` does. A panic nobody
/// handled unwinds out of here, with neither event. (The hooks are looked
/// up each time: a callback of the run may have installed them.)
fn run_to_exit(core: &Rc<Core>, site: Site) {
    while !core.run(RunMode::Default) {
        if let Some(hooks) = crate::rt::process::hooks() {
            emit_process_event(core, site, hooks.before_exit);
        }
        if !core.alive() {
            break;
        }
    }
    if core.executor.pending() > 0 {
        emit_process_event(core, site, warn_stuck_tasks);
    }
    if let Some(hooks) = crate::rt::process::hooks() {
        let _entered = Entered::new(core);
        core.clock.invalidate();
        core.invoke_exit(site, hooks.exit);
    }
}

/// evloop's own warning at the end of a main script whose tasks still
/// wait on something that can never wake them (Node's "unsettled
/// top-level await").
fn warn_stuck_tasks() {
    let pending = with_core("run_main", |core| core.executor.pending());
    crate::rt::process::emit_warning(ProcessWarning::new(format!(
        "{pending} task(s) still pending, but nothing can wake them (like promises that \
         never settle); the loop exits"
    )));
}

/// Emits a process event as a callback of its own (the panic policy,
/// then the drain), with this loop current.
fn emit_process_event(core: &Rc<Core>, site: Site, emit: fn()) {
    let _entered = Entered::new(core);
    core.clock.invalidate();
    if core.observer.is_some() {
        core.invoke_fn::<true>(site, emit);
    } else {
        core.invoke_fn::<false>(site, emit);
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
#[track_caller]
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
#[track_caller]
pub fn run_async<F>(main: F) -> F::Output
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    EventLoop::new()
        .unwrap_or_else(|e| panic!("evloop: cannot create an event loop: {e}"))
        .run_async(main)
}

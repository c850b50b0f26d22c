//! [`Builder`]: a loop's configuration, read from the environment where the
//! program did not set it, and the `Core` it builds.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::rt::clock::Clock;
use crate::rt::core::Core;
use crate::rt::event_loop::EventLoop;
use crate::rt::executor::Executor;
use crate::rt::panic::{PanicHandler, UncaughtPanic};
use crate::rt::pool::threads::{self as pool, Pool};
use crate::rt::queues::Immediates;
use crate::rt::reactor::poller::Reactor;
use crate::rt::remote::Inbox;
use crate::rt::timer::timers::Timers;
use crate::rt::trace::observer::{Observer, Phase, TraceConfig};

static NEXT_LOOP_ID: AtomicU32 = AtomicU32::new(1);

/// Configures an [`EventLoop`].
#[must_use = "a Builder does nothing until build() is called"]
pub struct Builder {
    pub(in crate::rt) virtual_time: bool,
    pub(in crate::rt) panic_handler: Option<PanicHandler>,
    pub(in crate::rt) threadpool_size: Option<usize>,
    pub(in crate::rt) trace: TraceConfig,
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

//! One run of the loop, in libuv's order: this page is evloop's `uv_run`
//! (libuv 1.46, the version Node 20 ships: `src/unix/core.c`).
//!
//! - `Core::run`, the body of [`EventLoop::run`](crate::EventLoop::run), is
//!   `uv_run`: drain what a panic left behind; update the time if the loop
//!   is not alive; in `Default` mode only, run the timers once before the
//!   first iteration; then iterate while the loop is alive and not stopped,
//!   `Once` and `NoWait` stopping after one iteration.
//! - `Core::iterate_as` is one turn of `uv_run`'s loop, the phases in its
//!   order: pending (`uv__run_pending`), idle and prepare handles
//!   (`uv__run_idle`, `uv__run_prepare`: the `watcher` module, skipped by
//!   one test of `Watchers::busy` when none is started), poll
//!   (`uv__io_poll`, in `poll`), pending again (at most 8 rounds, for
//!   callbacks the poll deferred), check (`uv__run_check`: check handles,
//!   then the immediates, which Node runs from a check handle started
//!   before any other), close (`uv__run_closing_handles`), then update the
//!   time (`uv__update_time`) and run the timers (`uv__run_timers`).
//!   `Core::iterate` picks the observed or the plain copy of it. In
//!   `Default` mode this is the order a learner is taught (timers, pending,
//!   poll, check, close, timers, ...); a `Once` or `NoWait` run runs the
//!   timers once, after the close phase.
//! - `Core::alive` is `uv_loop_alive`; `Core::poll_timeout` is
//!   `uv_backend_timeout`.
//!
//! Each callback a phase runs goes through `drain` (`Core::invoke_as`).
//!
//! libuv 1.46's `uv_run`, for reference (metrics calls left out):
//!
//! ```c
//! int uv_run(uv_loop_t* loop, uv_run_mode mode) {
//!   int timeout;
//!   int r;
//!   int can_sleep;
//!
//!   r = uv__loop_alive(loop);
//!   if (!r)
//!     uv__update_time(loop);
//!
//!   if (mode == UV_RUN_DEFAULT && r != 0 && loop->stop_flag == 0) {
//!     uv__update_time(loop);
//!     uv__run_timers(loop);
//!   }
//!
//!   while (r != 0 && loop->stop_flag == 0) {
//!     can_sleep =
//!         uv__queue_empty(&loop->pending_queue) &&
//!         uv__queue_empty(&loop->idle_handles);
//!
//!     uv__run_pending(loop);
//!     uv__run_idle(loop);
//!     uv__run_prepare(loop);
//!
//!     timeout = 0;
//!     if ((mode == UV_RUN_ONCE && can_sleep) || mode == UV_RUN_DEFAULT)
//!       timeout = uv__backend_timeout(loop);
//!
//!     uv__io_poll(loop, timeout);
//!
//!     for (r = 0; r < 8 && !uv__queue_empty(&loop->pending_queue); r++)
//!       uv__run_pending(loop);
//!
//!     uv__run_check(loop);
//!     uv__run_closing_handles(loop);
//!
//!     uv__update_time(loop);
//!     uv__run_timers(loop);
//!
//!     r = uv__loop_alive(loop);
//!     if (mode == UV_RUN_ONCE || mode == UV_RUN_NOWAIT)
//!       break;
//!   }
//!
//!   if (loop->stop_flag != 0)
//!     loop->stop_flag = 0;
//!
//!   return r;
//! }
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::resume_unwind;
use std::rc::Rc;
use std::time::Duration;

use crate::rt::callback::Callback;
use crate::rt::context::Entered;
use crate::rt::core::Core;
use crate::rt::queue;
use crate::rt::queues::Queue;
use crate::rt::schedule::{ChoiceKind, Schedule};
use crate::rt::timer;
use crate::rt::trace::counts::Phase;
use crate::rt::trace::replay;
use crate::rt::watcher;
use crate::rt::watcher::table::{self as watchers, Kind};

/// How far [`EventLoop::run`](crate::EventLoop::run) goes, like libuv's
/// `uv_run_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Iterate until nothing referenced is pending or [`stop`](crate::stop) is
    /// called (`UV_RUN_DEFAULT`).
    Default,
    /// One iteration, blocking in the poll phase if there is nothing else to
    /// do (`UV_RUN_ONCE`).
    Once,
    /// One iteration that never blocks (`UV_RUN_NOWAIT`): what an embedding
    /// host calls when the [backend fd](crate::EventLoop::backend_fd) is
    /// readable or the [backend timeout](crate::EventLoop::backend_timeout)
    /// has passed.
    NoWait,
}

impl Core {
    /// `uv_run`: the body of [`EventLoop::run`](crate::EventLoop::run) (whose
    /// doc says what it returns). A method of `Core` rather than a free
    /// function: rustc compiles a type's methods in one codegen unit, so
    /// `iterate` is inlined here, as it was when both lived in one file (as
    /// a free function in this module, each iteration ran about 20 more
    /// instructions).
    pub(in crate::rt) fn run(self: &Rc<Self>, mode: RunMode) -> bool {
        let _entered = Entered::new(self);
        // Ticks and microtasks left behind by a panic that stopped the last
        // run belong before any other callback.
        if let Err(payload) = self.drain::<false>() {
            resume_unwind(payload);
        }
        let mut alive = self.alive();
        if !alive {
            // uv__update_time: even a run with nothing to do moves `now()`.
            self.clock.invalidate();
        }
        // Only DEFAULT runs the timers before the first iteration (libuv
        // keeps it for backwards compatibility); the others run them once,
        // after the close phase.
        if mode == RunMode::Default && alive && !self.stop.get() {
            if let Some(s) = &self.schedule {
                self.choose_first_timer(s);
            }
            if self.observer.is_some() {
                self.run_timers_phase::<true>();
            } else {
                self.run_timers_phase::<false>();
            }
        }
        while alive && !self.stop.get() {
            self.iterate(mode);
            alive = self.alive();
            if mode != RunMode::Default {
                break;
            }
        }
        self.stop.set(false);
        if !alive && self.executor.pending() > 0 && mode == RunMode::Default {
            log::warn!(
                target: "evloop",
                "{} task(s) still pending, but nothing can wake them (like promises \
                 that never settle); the loop exits",
                self.executor.pending()
            );
        }
        alive
    }

    /// Whether anything referenced is pending (`uv_loop_alive`: started,
    /// referenced handles of every kind), or a pending task that something
    /// can still wake.
    pub(in crate::rt) fn alive(&self) -> bool {
        let handles = self.timers.borrow().referenced() > 0
            || self.immediates.borrow().referenced() > 0
            || !self.pending.borrow().is_empty()
            || !self.closing.borrow().is_empty()
            || self.pool_busy()
            || self.reactor.borrow().referenced() > 0
            || self.watchers.busy() & watchers::REFERENCED != 0
            || self.inbox.keeps_alive()
            || self.schedule.as_ref().is_some_and(Schedule::holds_posts);
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

    /// One turn of `uv_run`'s loop, in libuv 1.46's order.
    fn iterate_as<const OBSERVED: bool>(&self, mode: RunMode) {
        // (Read in ONCE mode only.) Node's immediates keep its idle handle
        // started while any is referenced.
        let can_sleep = mode == RunMode::Once
            && self.pending.borrow().is_empty()
            && self.watchers.busy() & watchers::IDLE == 0
            && self.immediates.borrow().referenced() == 0;
        // 1. pending callbacks
        self.pending_phase::<OBSERVED>();
        // 2. idle, prepare (uv__run_idle, uv__run_prepare); a phase of its
        // own in traces only when there are handles to run
        if self.watchers.busy() & (watchers::IDLE | watchers::PREPARE) != 0 {
            self.phase::<OBSERVED>(Phase::IdlePrepare, || {
                watcher::run_pass::<OBSERVED>(self, Kind::Idle)
                    + watcher::run_pass::<OBSERVED>(self, Kind::Prepare)
            });
        }
        // 3. poll for I/O
        let timeout = if can_sleep || mode == RunMode::Default {
            self.poll_timeout()
        } else {
            Some(Duration::ZERO)
        };
        self.phase::<OBSERVED>(Phase::Poll, || self.poll::<OBSERVED>(timeout));
        // 4. pending callbacks the poll deferred, at most 8 rounds
        for _ in 0..8 {
            if self.pending.borrow().is_empty() {
                break;
            }
            self.pending_phase::<OBSERVED>();
        }
        // 5. check: check handles, then the immediates (Node's own check
        // handle, started before any other: see `watcher`)
        self.phase::<OBSERVED>(Phase::Check, || {
            let handles = if self.watchers.busy() & watchers::CHECK != 0 {
                watcher::run_pass::<OBSERVED>(self, Kind::Check)
            } else {
                0
            };
            handles + queue::run_check::<OBSERVED>(self)
        });
        // 6. close callbacks
        self.phase::<OBSERVED>(Phase::Close, || self.close_phase::<OBSERVED>());
        // 7. update the time, timers
        self.run_timers_phase::<OBSERVED>();
    }

    /// `uv__update_time` then `uv__run_timers`. A trace counts iterations
    /// from one timers phase to the next, so that in `Default` mode an
    /// iteration reads as taught: timers, pending, poll, check, close.
    #[inline(always)]
    fn run_timers_phase<const OBSERVED: bool>(&self) {
        self.iteration.set(self.iteration.get() + 1);
        self.clock.invalidate();
        self.phase::<OBSERVED>(Phase::Timers, || timer::run_timers::<OBSERVED>(self));
        self.phase.set(Phase::Main);
    }

    /// `uv__run_pending`.
    #[inline(always)]
    fn pending_phase<const OBSERVED: bool>(&self) {
        // Nothing to run and nobody watching: the phase would only set
        // `self.phase`, which no callback can read before the next phase
        // sets it again. (Skipping it keeps `iterate_as` small enough for
        // rustc to inline the phase's closure: 4% of `immediate_chain`.)
        if !OBSERVED && self.pending.borrow().is_empty() {
            return;
        }
        self.phase::<OBSERVED>(Phase::Pending, || {
            self.run_queue::<OBSERVED, true>(&self.pending, replay::Queue::Pending)
        });
    }

    /// Runs one phase, telling the observer (if `OBSERVED`) and the log.
    #[inline(always)]
    fn phase<const OBSERVED: bool>(&self, phase: Phase, run: impl FnOnce() -> usize) {
        self.phase.set(phase);
        if OBSERVED && let Some(o) = &self.observer {
            o.phase_begin();
            if let Some(r) = &o.replay {
                r.phase(
                    self.clock.cached_ms(),
                    phase.replay_name(),
                    self.iteration.get(),
                );
            }
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
    /// next iteration. `IO`: they are I/O callbacks (the pending phase's),
    /// drained even after a panic the handler took (`Core::invoke_fn`);
    /// close callbacks are not (`Core::invoke_as`).
    fn run_queue<const OBSERVED: bool, const IO: bool>(
        &self,
        queue: &RefCell<Queue>,
        kind: replay::Queue,
    ) -> usize {
        let n = queue.borrow().len();
        for _ in 0..n {
            match pop(queue) {
                Some(cb) => {
                    if OBSERVED && let Some(o) = &self.observer {
                        o.from(replay::From::Fifo(kind));
                    }
                    if IO {
                        self.invoke_fn::<OBSERVED>(cb.site, || cb.f.call_once())
                    } else {
                        self.invoke_as::<OBSERVED>(cb)
                    }
                }
                None => return n,
            }
        }
        n
    }

    /// `uv__run_closing_handles`: the close callbacks queued when the phase
    /// began, newest first, as libuv keeps `loop->closing_handles` as a
    /// stack (`uv_close(a); uv_close(b)` calls b's callback, then a's; Node
    /// emits three destroyed sockets' `close` events in reverse). One queued
    /// during the phase waits for the next iteration.
    fn close_phase<const OBSERVED: bool>(&self) -> usize {
        if self.closing.borrow().is_empty() {
            return 0;
        }
        /// Puts back what a panic leaving the phase did not reach, ahead of
        /// what was queued meanwhile, so nothing is lost or reordered.
        struct Rest<'a>(&'a Core, VecDeque<Callback>);
        impl Drop for Rest<'_> {
            fn drop(&mut self) {
                if !self.1.is_empty() {
                    let mut closing = self.0.closing.borrow_mut();
                    let later = std::mem::replace(&mut *closing, std::mem::take(&mut self.1));
                    closing.extend(later);
                }
            }
        }
        let mut batch = Rest(self, std::mem::take(&mut *self.closing.borrow_mut()));
        let n = batch.1.len();
        while let Some(cb) = batch.1.pop_back() {
            if OBSERVED && let Some(o) = &self.observer {
                o.from(replay::From::Nth(replay::Queue::Close, batch.1.len()));
            }
            self.invoke_as::<OBSERVED>(cb);
        }
        n
    }

    /// What an embedding host is told (`EventLoop::backend_timeout`):
    /// [`Core::poll_timeout`], except that a loop nothing keeps alive has no
    /// deadline (`None`) where libuv says zero: `run` does nothing on such a
    /// loop (unreferenced timers and immediates wait), so a host that
    /// outlives evloop's work would spin on zero.
    pub(in crate::rt) fn host_timeout(&self) -> Option<Duration> {
        if self.alive() {
            self.poll_timeout()
        } else {
            None
        }
    }

    /// How long the poll phase may block (`uv_backend_timeout`): zero when
    /// there is other work or an idle handle is started, until the next
    /// timer otherwise, forever (`None`) when only I/O, cross-thread,
    /// prepare or check handles keep the loop alive.
    pub(in crate::rt) fn poll_timeout(&self) -> Option<Duration> {
        if self.stop.get()
            || self.immediates.borrow().live() > 0
            // A started idle handle, referenced or not.
            || self.watchers.busy() & watchers::IDLE != 0
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
}

/// The seeded mode's choice before the first timers phase (the chooser
/// is `schedule`; the others are taken in `poll` and `pool::seeded`).
impl Core {
    /// Before a run's first timers phase: if the next timer is due within
    /// the coming millisecond (a `setTimeout(0)` of the main script), choose
    /// whether that millisecond has passed; if so, move the (virtual) clock
    /// to the timer's deadline, as a slower machine's clock would have.
    #[cold]
    #[inline(never)]
    pub(in crate::rt) fn choose_first_timer(&self, s: &Schedule) {
        self.clock.invalidate();
        let now = self.clock.now_ns();
        let Some(ms) = self.timers.borrow().next_deadline() else {
            return;
        };
        let due = ms.saturating_mul(1_000_000);
        if due > now && due - now <= 1_000_000 && s.choose(ChoiceKind::FirstTimerDue, 2) == 1 {
            self.clock.advance(due - now);
        }
    }
}

/// Takes the front of a phase's queue, in a borrow that ends before the
/// item runs (`run_queue`, and the poll phase's events).
pub(in crate::rt) fn pop<T>(queue: &RefCell<VecDeque<T>>) -> Option<T> {
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

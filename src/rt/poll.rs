//! The poll phase (libuv's `uv__io_poll`, kept apart from `uv_run` as libuv
//! keeps it): wait for readiness or the next timer (or, under virtual time,
//! jump to it), count the wait as idle time, then run the I/O callbacks and
//! the closures posted from other threads.

use std::panic::Location;
use std::time::{Duration, Instant};

use crate::rt::core::Core;
use crate::rt::reactor::poller::Fired;
use crate::rt::remote::{Inbox, Job};
use crate::rt::run::pop;
use crate::rt::schedule::{Arrival, MAX_LATE_DEADLINES, Schedule};
use crate::rt::trace::replay::From;

impl Core {
    /// The poll phase: wait for readiness, then run I/O callbacks and the
    /// closures posted from other threads.
    pub(in crate::rt) fn poll<const OBSERVED: bool>(&self, timeout: Option<Duration>) -> usize {
        if let Some(s) = &self.schedule {
            return self.poll_seeded::<OBSERVED>(s, timeout);
        }
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
        self.wait_for_events::<OBSERVED>(wait, woken, &mut fired);
        if let Some(t) = virtual_jump
            && fired.is_empty()
            && !self.inbox.woken()
        {
            // Nothing can happen before the next timer: skip the wait.
            self.jump_clock(self.clock.now_ns() + t.as_nanos() as u64);
        }
        let mut ran = 0;
        // I/O callbacks, in the order the OS reported them. The queue stays
        // in the core and each event is popped before its callback: if a
        // callback panics and the panic leaves `run` (no uncaught-panic
        // handler), the next poll starts with the events not yet handled.
        // Sources are edge-triggered, so the OS would not report them again.
        *self.fired.borrow_mut() = fired;
        while let Some((token, readable, writable)) = pop(&self.fired) {
            ran += usize::from(self.run_io::<OBSERVED>(token, readable, writable));
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
                self.run_post::<OBSERVED>(job);
                ran += 1;
            }
            std::mem::forget(rearm);
        }
        ran
    }

    /// Waits (at most `wait`; `None`: until something happens) for
    /// readiness, appending what fired to `fired`. The wait counts as the
    /// loop's idle time (Node's eventLoopUtilization); a zero-timeout poll
    /// does not.
    #[inline(always)]
    fn wait_for_events<const OBSERVED: bool>(
        &self,
        wait: Option<Duration>,
        woken: bool,
        fired: &mut Fired,
    ) {
        let mut reactor = self.reactor.borrow_mut();
        if !reactor.must_poll(wait, woken) {
            return;
        }
        let waits = wait != Some(Duration::ZERO);
        let started = (waits && !self.clock.is_virtual()).then(Instant::now);
        if OBSERVED
            && waits
            && let Some(o) = &self.observer
        {
            o.poll_wait(true);
            if let Some(r) = &o.replay {
                let ms = wait.map(|w| w.as_millis() as u64);
                r.wait(self.clock.cached_ms(), ms);
            }
        }
        if let Err(e) = reactor.poll(wait, fired) {
            log::error!(target: "evloop", "poll failed: {e}");
        }
        if let Some(t) = started {
            self.idle_ns
                .set(self.idle_ns.get() + t.elapsed().as_nanos() as u64);
        }
        if OBSERVED && let Some(o) = &self.observer {
            o.poll_wait(false);
            if let Some(r) = o.replay.as_ref().filter(|_| waits) {
                r.wake(self.clock.cached_ms());
            }
        }
        // As libuv after epoll_wait: I/O callbacks see the time they woke
        // at, so their timers do not count the wait.
        self.clock.invalidate();
    }

    /// Virtual time: nothing can happen before `to_ns`, so the clock jumps
    /// there; the skipped wait counts as idle time, as the wait would have.
    #[inline(always)]
    fn jump_clock(&self, to_ns: u64) {
        let from = self.clock.now_ns();
        self.clock.jump_to(to_ns);
        self.idle_ns
            .set(self.idle_ns.get() + (self.clock.now_ns() - from));
    }

    /// Runs the handler of source `token`, if it is still registered (an
    /// earlier callback may have closed it); whether it ran.
    #[inline(always)]
    fn run_io<const OBSERVED: bool>(&self, token: usize, readable: bool, writable: bool) -> bool {
        let handler = self.reactor.borrow().handler(token);
        let Some(handler) = handler else {
            return false;
        };
        if OBSERVED && let Some(o) = &self.observer {
            o.from(From::Io(token));
            if let Some(r) = &o.replay {
                r.io(self.clock.cached_ms(), token, readable, writable);
            }
        }
        self.invoke_fn::<OBSERVED>(Location::caller(), move || {
            handler.ready(readable, writable)
        });
        true
    }

    /// Runs one post or pool result.
    pub(in crate::rt) fn run_post<const OBSERVED: bool>(&self, job: Job) {
        if OBSERVED && let Some(o) = &self.observer {
            o.from(job.pool_job().map_or(From::Post, From::Pool));
        }
        self.invoke_fn::<OBSERVED>(job.site, job.f);
    }
}

/// The seeded mode's poll phase (the chooser is `schedule`): what reaches
/// the loop from outside is held there, so the seed, not the threads' or
/// the kernel's speed, decides when each is handled.
impl Core {
    /// A seeded poll phase:
    /// 1. hold what the inbox brought: pool results, other threads' posts;
    /// 2. poll for readiness without blocking while anything is held, a
    ///    pool job runs or a timer is pending (virtual time), and hold the
    ///    events;
    /// 3. handle the arrivals (readiness and posts) until the schedule
    ///    holds the rest (`ArrivalDelay`), in a chosen order
    ///    (`ArrivalOrder`);
    /// 4. if none was handled and no pool job runs, jump the clock to the
    ///    next timer, or later (`PollLate`);
    /// 5. deliver pool results in a chosen order, waiting in real time for
    ///    each (`deliver_results`), perhaps leaving some for the next poll.
    ///
    /// Each arrival and result is taken out before it runs, so a panic
    /// leaving the run leaves the rest held for the next poll.
    #[cold]
    #[inline(never)]
    fn poll_seeded<const OBSERVED: bool>(&self, s: &Schedule, timeout: Option<Duration>) -> usize {
        self.hold_inbox(s);
        let jump = timeout.filter(|t| !t.is_zero());
        let wait = if s.holds_any() || jump.is_some() {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        // (Readiness met while the last poll waited for a pool result,
        // first.)
        let mut fired = std::mem::take(&mut *self.fired.borrow_mut());
        self.wait_for_events::<OBSERVED>(wait, self.inbox.woken(), &mut fired);
        s.arrive_io(fired);
        self.hold_inbox(s);
        let mut ran = 0;
        while let Some(arrival) = s.next_arrival() {
            ran += match arrival {
                Arrival::Io(token, r, w) => usize::from(self.run_io::<OBSERVED>(token, r, w)),
                Arrival::Post(job) => {
                    self.run_post::<OBSERVED>(job);
                    1
                }
            };
        }
        if ran == 0
            && !s.pool_busy()
            && let Some(t) = jump
        {
            let on_time = self.clock.now_ns() + t.as_nanos() as u64;
            let deadlines = self.timers.borrow().next_deadlines(MAX_LATE_DEADLINES + 1);
            let to = match s.late_wake(deadlines.len()) {
                0 => on_time,
                k => deadlines[k].saturating_mul(1_000_000).max(on_time),
            };
            self.jump_clock(to);
        }
        ran + self.deliver_results::<OBSERVED>(s)
    }

    /// Moves what the inbox holds into the schedule: pool results to
    /// `held`, other threads' posts to the arrivals. Clears the wake flag
    /// first, as the plain poll does, so a later post wakes the loop again.
    pub(in crate::rt) fn hold_inbox(&self, s: &Schedule) {
        if !self.inbox.take_woken() {
            return;
        }
        for _ in 0..self.inbox.pending() {
            let Some(job) = self.inbox.try_recv() else {
                break;
            };
            if job.pool.is_some() {
                s.hold(job);
            } else {
                s.arrive_post(job);
            }
        }
    }
}

/// See the end of `Core::poll`: dropped only by an unwind.
struct RearmOnUnwind<'a>(&'a Inbox);

impl Drop for RearmOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.rearm();
    }
}

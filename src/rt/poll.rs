//! The poll phase (libuv's `uv__io_poll`, kept apart from `uv_run` as libuv
//! keeps it): wait for readiness or the next timer (or, under virtual time,
//! jump to it), count the wait as idle time, then run the I/O callbacks and
//! the closures posted from other threads.

use std::panic::Location;
use std::time::{Duration, Instant};

use crate::rt::core::Core;
use crate::rt::remote::{Inbox, Job};
use crate::rt::run::pop;
use crate::rt::schedule::Schedule;
use crate::rt::trace::replay::From;

impl Core {
    /// The poll phase: wait for readiness, then run I/O callbacks and the
    /// closures posted from other threads.
    pub(in crate::rt) fn poll<const OBSERVED: bool>(&self, timeout: Option<Duration>) -> usize {
        let timeout = match &self.schedule {
            Some(s) => self.settle(s, timeout),
            None => timeout,
        };
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
                    if let Some(r) = &o.replay {
                        let ms = wait.map(|w| w.as_millis() as u64);
                        r.wait(self.clock.cached_ms(), ms);
                    }
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
                    if let Some(r) = o.replay.as_ref().filter(|_| waits) {
                        r.wake(self.clock.cached_ms());
                    }
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
                if OBSERVED && let Some(o) = &self.observer {
                    o.from(From::Io(token));
                    if let Some(r) = &o.replay {
                        r.io(self.clock.cached_ms(), token, readable, writable);
                    }
                }
                self.invoke_fn::<OBSERVED>(Location::caller(), move || {
                    handler.ready(readable, writable)
                });
                ran += 1;
            }
        }
        if let Some(s) = &self.schedule {
            ran += self.deliver::<OBSERVED>(s);
        } else if self.inbox.take_woken() {
            // A panicking post leaves the rest in the channel with the wake
            // flag already cleared: the guard sets it again, so the next
            // poll runs them rather than sleeping with them queued.
            let rearm = RearmOnUnwind(&self.inbox);
            for _ in 0..self.inbox.pending() {
                let Some(job) = self.inbox.try_recv() else {
                    break;
                };
                if OBSERVED && let Some(o) = &self.observer {
                    o.from(job.pool_job().map_or(From::Post, From::Pool));
                }
                self.invoke_fn::<OBSERVED>(job.site, job.f);
                ran += 1;
            }
            std::mem::forget(rearm);
        }
        ran
    }
}

/// The seeded mode's poll phase (the chooser is `schedule`): other
/// threads' posts and pool results are held, then delivered in a chosen
/// order (pool results: `pool::seeded`).
impl Core {
    /// The start of a seeded poll phase: holds what the inbox brings.
    /// Returns the poll's timeout: zero when a post is held or a pool job
    /// runs (the poll delivers at least one result, waiting for it in real
    /// time if need be, so it must not block or jump the clock), `timeout`
    /// otherwise.
    #[cold]
    #[inline(never)]
    pub(in crate::rt) fn settle(
        &self,
        s: &Schedule,
        timeout: Option<Duration>,
    ) -> Option<Duration> {
        self.hold_inbox(s);
        let ready = s.pool_busy() || !s.posts.borrow().is_empty();
        if ready { Some(Duration::ZERO) } else { timeout }
    }

    /// Moves what the inbox holds into the schedule: pool results to
    /// `held`, other threads' posts to `posts` (in arrival order). Clears
    /// the wake flag first, as the plain poll does, so a later post wakes
    /// the loop again.
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
                s.posts.borrow_mut().push_back((job, 0));
            }
        }
    }

    /// The end of a seeded poll phase: other threads' posts in arrival
    /// order, possibly holding the rest for the next poll (`next_post`),
    /// then pool results in a chosen order, possibly leaving some for the
    /// next poll (`deliver_results`). Each job is taken out before it
    /// runs, so a panic leaving the run leaves the rest held for the next
    /// poll.
    #[cold]
    #[inline(never)]
    pub(in crate::rt) fn deliver<const OBSERVED: bool>(&self, s: &Schedule) -> usize {
        self.hold_inbox(s);
        let mut ran = 0;
        while let Some(job) = s.next_post() {
            self.run_post::<OBSERVED>(job);
            ran += 1;
        }
        ran + self.deliver_results::<OBSERVED>(s)
    }

    /// Runs one post or pool result, as the plain poll phase does.
    pub(in crate::rt) fn run_post<const OBSERVED: bool>(&self, job: Job) {
        if OBSERVED && let Some(o) = &self.observer {
            o.from(job.pool_job().map_or(From::Post, From::Pool));
        }
        self.invoke_fn::<OBSERVED>(job.site, job.f);
    }
}

/// See the end of `Core::poll`: dropped only by an unwind.
struct RearmOnUnwind<'a>(&'a Inbox);

impl Drop for RearmOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.rearm();
    }
}

//! Timers: `set_timeout`, `set_interval` and their handles, on a
//! hierarchical timing wheel ([`wheel`]).
//!
//! A timer's deadline is the time it was scheduled plus its delay, in whole
//! milliseconds. As Node's `setTimeout` does, scheduling reads the clock
//! afresh and updates the loop's cached time (`uv_update_time`). The timers phase
//! first moves every due timer to a ready list, then runs that list one timer
//! at a time, so a timer scheduled or re-armed by a timer callback waits for
//! the next pass, and a timer cleared by an earlier callback of the same pass
//! does not run.

pub(crate) mod timers;
mod wheel;

use std::fmt;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::time::Duration;

use crate::rt::callback::SmallFn;
use crate::rt::callback::{Callback, Site};
use crate::rt::context::with_core;
use crate::rt::core::Core;
use crate::rt::process::ProcessWarning;
use crate::rt::trace::observer as trace;
use crate::rt::trace::replay::Queue;
use timers::{TimerData, Timers};
use wheel::Key;

/// Node's `TIMEOUT_MAX`: the largest delay, `2^31 - 1` ms (about 24.8 days).
pub const TIMEOUT_MAX: u32 = i32::MAX as u32;

/// A timer delay in milliseconds, converted from what JavaScript would pass.
///
/// Integers are milliseconds; `f64` is milliseconds too, and a [`Duration`]
/// is its length in milliseconds with the fraction kept. As in Node, any
/// delay that is not in `1..=2^31-1` ms (zero, negative, NaN, infinite, or
/// too large) becomes 1 ms (a too-large one also logs a warning like Node's
/// `TimeoutOverflowWarning`); what remains is then truncated to whole
/// milliseconds, as Node's `insert` does (`MathTrunc(msecs)`): `1.8` and
/// `Duration::from_micros(1800)` are 1 ms, and run before a 2 ms timer
/// scheduled earlier; `0.5` is below 1 and becomes 1 ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delay(f64);

macro_rules! delay_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Delay {
            fn from(ms: $t) -> Delay {
                Delay(ms as f64)
            }
        }
    )*};
}
delay_from!(i32, u32, i64, u64, usize, f64);

impl From<Duration> for Delay {
    fn from(d: Duration) -> Delay {
        Delay(d.as_nanos() as f64 / 1e6)
    }
}

impl Delay {
    /// The delay Node would use, in whole milliseconds: clamped to
    /// `1..=2^31-1` (`after` in Node's `Timeout` constructor), then truncated
    /// (`insert` in `lib/internal/timers.js`).
    pub(crate) fn clamp(self, site: Site) -> u32 {
        let ms = self.0;
        if ms >= 1.0 && ms <= TIMEOUT_MAX as f64 {
            // (`as` truncates toward zero.)
            return ms as u32;
        }
        if ms > TIMEOUT_MAX as f64 {
            overflow_warning(ms, site);
        }
        1
    }
}

/// Node's `TimeoutOverflowWarning` for a delay of `ms` scheduled at `site`:
/// logged now, and a process warning on the next tick. Out of line: it
/// must not weigh on `schedule`, which every timer goes through.
#[cold]
#[inline(never)]
fn overflow_warning(ms: f64, site: Site) {
    log::warn!(
        target: "evloop",
        "TimeoutOverflowWarning: {ms} does not fit into a 32-bit signed integer. \
         Timeout duration was set to 1. (scheduled at {}:{})",
        site.file(),
        site.line()
    );
    let message =
        format!("{ms} does not fit into a 32-bit signed integer.\nTimeout duration was set to 1.");
    crate::rt::process::emit_warning_at(
        ProcessWarning::new(message).with_name("TimeoutOverflowWarning"),
        site,
    );
}

// The mutators the schedulers and the timers phase call, kept beside them
// (and `insert` marked `#[inline]`) so they inline there: out of line they
// cost `timers_fire` 0.6%.
impl Timers {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Adds a timer (referenced, as every new timer is) due `delay_ms`
    /// after `now_ms`.
    #[inline]
    fn insert(&mut self, now_ms: u64, cb: SmallFn, site: Site, delay_ms: u32, repeat: bool) -> Key {
        let when = now_ms + delay_ms as u64;
        let seq = self.next_seq();
        let data = TimerData {
            cb,
            site,
            delay_ms,
            repeat,
            keep: self.refs.add(),
        };
        self.wheel.insert(when, seq, data)
    }

    /// Takes a timer off the wheel, giving its keep-alive flag back; hands
    /// back its callback (to run, or to drop outside the wheel's borrow)
    /// and site.
    #[inline]
    fn remove(&mut self, key: Key) -> Option<(SmallFn, Site)> {
        let data = self.wheel.remove(key)?;
        self.refs.remove(data.keep);
        Some((data.cb, data.site))
    }
}

/// A due timer taken off the wheel for its run.
struct Fire {
    key: Key,
    /// An interval stays in the wheel (detached) during its run and lends
    /// its callback out; a one-shot timer has been removed.
    interval: bool,
    cb: SmallFn,
    site: Site,
}

/// Runs the timers phase: every timer due at the loop's cached time, in
/// (deadline, creation) order, each followed by the next-tick/microtask drain.
/// Returns how many callbacks ran.
pub(crate) fn run_timers<const OBSERVED: bool>(core: &Core) -> usize {
    if core.timers.borrow().len() == 0 {
        return 0;
    }
    let now_ms = core.clock.now_ms();
    core.timers.borrow_mut().wheel.advance(now_ms);
    let mut ran = 0;
    loop {
        let fire = {
            let mut t = core.timers.borrow_mut();
            // Start loading a callback a few timers ahead: with many timers
            // its closure is rarely still in the cache.
            if let Some(data) = t.wheel.peek_ready(4) {
                data.cb.prefetch();
            }
            let Some(key) = t.wheel.pop_ready() else {
                break;
            };
            let data = t.wheel.get_mut(key).expect("ready key is live");
            if data.repeat {
                // Keep the entry (detached) so the handle stays valid; lend the
                // callback out for the call.
                let cb = std::mem::replace(&mut data.cb, SmallFn::noop());
                Fire {
                    key,
                    interval: true,
                    cb,
                    site: data.site,
                }
            } else {
                let (cb, site) = t.remove(key).expect("ready key is live");
                Fire {
                    key,
                    interval: false,
                    cb,
                    site,
                }
            }
        };
        ran += 1;
        if OBSERVED && let Some(o) = &core.observer {
            let key = fire.key;
            o.flow_in(
                Queue::Timer,
                trace::timer_flow(key.index, key.generation),
                std::time::Instant::now(),
            );
        }
        let Fire {
            key,
            interval,
            cb,
            site,
        } = fire;
        match interval {
            false => core.invoke_as::<OBSERVED>(Callback { f: cb, site }),
            true => {
                // An interval re-arms from the time its run starts (Node
                // reads it afresh right before the callback), so the
                // callback's own duration does not add drift.
                core.clock.invalidate();
                let start_ms = core.clock.now_ms();
                // Node re-arms it in a `finally` right after the callback,
                // before the next ticks and microtasks run: so the re-arm
                // happens inside the invoked closure, ahead of the drain,
                // and a timer those create with the same deadline comes
                // after the interval's next run.
                let result = core.try_invoke::<OBSERVED>(site, move || {
                    let mut cb = cb;
                    let ran = catch_unwind(AssertUnwindSafe(|| cb.call_mut()));
                    let leftover = rearm(core, key, start_ms, cb);
                    // Dropped outside the wheel's borrow: its destructor
                    // may schedule.
                    drop(leftover);
                    if let Err(payload) = ran {
                        resume_unwind(payload);
                    }
                });
                if let Err(payload) = result {
                    // Unhandled panic: the interval dies with the run.
                    let data = core.timers.borrow_mut().remove(key);
                    drop(data);
                    resume_unwind(payload);
                }
            }
        }
    }
    ran
}

/// Puts an interval's callback back and re-arms it for `delay` after
/// `start_ms`; hands the callback back if the interval was cleared (from its
/// own callback, say) meanwhile.
fn rearm(core: &Core, key: Key, start_ms: u64, cb: SmallFn) -> Option<SmallFn> {
    let mut t = core.timers.borrow_mut();
    let seq = t.next_seq();
    match t.wheel.get_mut(key) {
        Some(data) => {
            data.cb = cb;
            let when = start_ms + data.delay_ms as u64;
            let site = data.site;
            t.wheel.reschedule(key, when, seq);
            record_armed(core, key, site, when);
            None
        }
        None => Some(cb),
    }
}

/// Tells a replay recording that timer `key` (scheduled at `site`) is due
/// at loop time `when` (armed, re-armed or refreshed).
fn record_armed(core: &Core, key: Key, site: Site, when: u64) {
    core.record(|r, ms| {
        let id = trace::timer_flow(key.index, key.generation);
        r.push(
            ms,
            Queue::Timer,
            Some(id),
            site,
            &format!(r#","due":{when}"#),
        );
    });
}

/// Handle to a timer from [`set_timeout`] or [`set_interval`] (Node's
/// `Timeout` object). It is `Copy`; every copy names the same timer.
///
/// Handles are generational: clearing, refreshing or re-referencing a timer
/// that already fired or was cleared, or one from another loop, is a harmless
/// no-op even if its storage has been reused by a newer timer.
///
/// The methods act on the loop running on this thread and panic if none is.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timer {
    loop_id: u32,
    key: Key,
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Timer({}:{}:{})",
            self.loop_id, self.key.index, self.key.generation
        )
    }
}

fn schedule(what: &str, delay: Delay, cb: SmallFn, repeat: bool, site: Site) -> Timer {
    let delay_ms = delay.clamp(site);
    with_core(what, |core| {
        // Node's setTimeout reads the clock afresh (`GetNow` updates libuv's
        // loop time), so work done earlier in the same callback counts.
        core.clock.invalidate();
        let now_ms = core.clock.now_ms();
        let key = core
            .timers
            .borrow_mut()
            .insert(now_ms, cb, site, delay_ms, repeat);
        if let Some(o) = &core.observer {
            o.flow_out(trace::timer_flow(key.index, key.generation));
            record_armed(core, key, site, now_ms + delay_ms as u64);
        }
        Timer {
            loop_id: core.id,
            key,
        }
    })
}

/// Calls `f` once, `delay` milliseconds from now (Node's
/// `setTimeout`).
///
/// # Ordering
/// Runs in the timers phase of the first iteration whose loop time has reached
/// the deadline, never earlier. Timers with the same deadline run in the order
/// they were created. A timer created from a timer callback never runs in the
/// same timers phase, even with delay 0. The delay is clamped as [`Delay`]
/// says, so `set_timeout(0, f)` is `set_timeout(1, f)`.
///
/// The deadline counts from the time of the call: like Node's `setTimeout`
/// (whose `GetNow` updates libuv's loop time), scheduling reads the clock
/// afresh and updates the loop's cached time, so a callback that ran for 5 ms
/// before scheduling a 10 ms timer does not see it fire early.
///
/// A pending timer keeps the loop alive unless [`Timer::unref`] is called.
///
/// # Panics
/// If no event loop is running on this thread.
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// let out = Rc::new(RefCell::new(Vec::new()));
/// let o = out.clone();
/// evloop::run(move || {
///     let (a, b) = (o.clone(), o.clone());
///     evloop::set_timeout(20, move || a.borrow_mut().push("20 ms"));
///     evloop::set_timeout(10, move || b.borrow_mut().push("10 ms"));
/// });
/// assert_eq!(*out.borrow(), ["10 ms", "20 ms"]);
/// ```
#[track_caller]
pub fn set_timeout(delay: impl Into<Delay>, f: impl FnOnce() + 'static) -> Timer {
    let cb = SmallFn::once(f);
    schedule("set_timeout", delay.into(), cb, false, Location::caller())
}

/// Calls `f` every `delay` milliseconds until cleared (Node's `setInterval`).
///
/// # Ordering
/// Each run is a timer as for [`set_timeout`]. After a run the interval is
/// re-armed for `delay` after the time the run started (read afresh, as
/// Node does), so a slow callback does not make it drift by its own
/// duration, and it never runs twice in one pass. The re-arm happens as
/// soon as the callback returns, before the next ticks and microtasks, as in
/// Node: a timer they create with the same deadline runs after the
/// interval's next run. Clearing it from its own callback stops it.
///
/// An interval keeps the loop alive forever unless cleared or unref'd, so the
/// handle must not be thrown away.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
#[must_use = "an interval runs until cleared: keep the Timer to clear it"]
pub fn set_interval(delay: impl Into<Delay>, f: impl FnMut() + 'static) -> Timer {
    schedule(
        "set_interval",
        delay.into(),
        SmallFn::repeating(f),
        true,
        Location::caller(),
    )
}

/// Cancels a timer (Node's `clearTimeout`). A no-op if it already fired, was
/// cleared, or belongs to another loop. A timer that is due in the current
/// timers phase but has not run yet does not run.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn clear_timeout(timer: Timer) {
    timer.clear();
}

/// Cancels an interval (Node's `clearInterval`); the same as [`clear_timeout`].
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn clear_interval(timer: Timer) {
    timer.clear();
}

impl Timer {
    fn with_timers<R>(self, what: &str, f: impl FnOnce(&mut Timers, u64) -> R) -> Option<R> {
        with_core(what, |core| {
            if core.id != self.loop_id {
                return None;
            }
            let now_ms = core.clock.now_ms();
            let mut t = core.timers.borrow_mut();
            t.wheel.get(self.key)?;
            Some(f(&mut t, now_ms))
        })
    }

    /// Clears the timer if its loop is running on this thread; otherwise the
    /// loop is gone or not running and there is nothing to clear (drop glue).
    pub(crate) fn clear_if_running(self) {
        let data = crate::rt::context::try_with_core(|core| {
            if core.id != self.loop_id {
                return None;
            }
            core.timers.borrow_mut().remove(self.key)
        });
        drop(data);
    }

    /// Names the timer for [`snapshot`](crate::snapshot) labels in teaching
    /// mode, shown as `name (file:line)`. A no-op for a timer that is gone.
    pub fn set_name(self, name: &'static str) {
        with_core("Timer::set_name", |core| {
            if core.id == self.loop_id && core.timers.borrow().wheel.get(self.key).is_some() {
                let id = trace::timer_flow(self.key.index, self.key.generation);
                core.record(|r, ms| r.name(ms, Queue::Timer, id, name));
                core.name(id, name);
            }
        });
    }

    /// Same as [`clear_timeout`].
    #[track_caller]
    pub fn clear(self) {
        let data = self.with_timers("Timer::clear", |t, _| t.remove(self.key));
        if data.as_ref().is_some_and(Option::is_some) {
            with_core("Timer::clear", |core| {
                let id = trace::timer_flow(self.key.index, self.key.generation);
                core.record(|r, ms| r.cancel(ms, Queue::Timer, id));
            });
        }
        // Dropped outside the wheel's borrow: its destructor may schedule.
        drop(data);
    }

    /// Restarts the countdown: the timer now fires `delay` after the loop's
    /// current time (read afresh), after timers created before this call with the
    /// same deadline (Node's `timeout.refresh()`). Returns whether the timer
    /// was pending. Unlike Node, a one-shot timer that already fired cannot be
    /// re-armed (its `FnOnce` is spent) and `refresh` returns `false`; calling
    /// it on an interval from inside its own callback is also a no-op, since
    /// the interval re-arms itself when the callback returns.
    #[track_caller]
    pub fn refresh(self) -> bool {
        // From the current time, read afresh as Node does.
        with_core("Timer::refresh", |core| core.clock.invalidate());
        let refreshed = self.with_timers("Timer::refresh", |t, now_ms| {
            if !t.wheel.is_scheduled(self.key) {
                return None;
            }
            let seq = t.next_seq();
            let (delay, site) = t.wheel.get(self.key).map(|d| (d.delay_ms, d.site))?;
            let when = now_ms + delay as u64;
            t.wheel
                .reschedule(self.key, when, seq)
                .then_some((when, site))
        });
        let Some(Some((when, site))) = refreshed else {
            return false;
        };
        with_core("Timer::refresh", |core| {
            record_armed(core, self.key, site, when)
        });
        true
    }

    /// Lets the loop exit even though this timer is pending (Node's
    /// `timeout.unref()`); it still fires if the loop runs long enough for
    /// other reasons.
    #[track_caller]
    pub fn unref(self) {
        self.set_ref(false);
    }

    /// Makes the timer keep the loop alive again (Node's `timeout.ref()`).
    #[track_caller]
    pub fn ref_(self) {
        self.set_ref(true);
    }

    #[track_caller]
    fn set_ref(self, on: bool) {
        self.with_timers("Timer::ref", |t, _| {
            let data = t.wheel.get_mut(self.key).expect("checked live");
            t.refs.set(&mut data.keep, on);
        });
    }

    /// Whether the timer is pending and keeps the loop alive. (Node keeps
    /// answering `true` for a fired timer that was never unref'd; here a
    /// timer that can no longer fire answers `false`.)
    #[track_caller]
    pub fn has_ref(self) -> bool {
        self.with_timers("Timer::has_ref", |t, _| {
            t.wheel.get(self.key).is_some_and(|d| d.keep.is_on())
        })
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_timer_costs_at_most_64_bytes() {
        assert_eq!(std::mem::size_of::<TimerData>(), 32);
        assert!(
            wheel::entry_size::<TimerData>() <= 64,
            "{}",
            wheel::entry_size::<TimerData>()
        );
    }

    #[test]
    fn delays_clamp_like_node() {
        let site = Location::caller();
        assert_eq!(Delay::from(0).clamp(site), 1);
        assert_eq!(Delay::from(-5).clamp(site), 1);
        assert_eq!(Delay::from(f64::NAN).clamp(site), 1);
        assert_eq!(Delay::from(f64::INFINITY).clamp(site), 1);
        assert_eq!(Delay::from(1u64 << 31).clamp(site), 1);
        assert_eq!(Delay::from(TIMEOUT_MAX).clamp(site), TIMEOUT_MAX);
        // Clamped, then truncated, as Node (issue 18).
        assert_eq!(Delay::from(1.2).clamp(site), 1);
        assert_eq!(Delay::from(1.8).clamp(site), 1);
        assert_eq!(Delay::from(2.999).clamp(site), 2);
        assert_eq!(Delay::from(0.5).clamp(site), 1);
        assert_eq!(Delay::from(TIMEOUT_MAX as f64 + 0.5).clamp(site), 1);
        assert_eq!(Delay::from(Duration::from_micros(1500)).clamp(site), 1);
        assert_eq!(Delay::from(Duration::from_micros(2500)).clamp(site), 2);
        assert_eq!(Delay::from(Duration::from_nanos(1)).clamp(site), 1);
        assert_eq!(Delay::from(Duration::ZERO).clamp(site), 1);
    }

    /// An unhandled panic in an interval's run, or in a tick that run
    /// queued, ends the interval (it is re-armed before the tick runs, and
    /// removed as the panic leaves the loop), so a re-run loop exits.
    #[test]
    fn an_unhandled_panic_in_an_interval_run_or_its_ticks_ends_it() {
        let _w = crate::test_watchdog::watchdog();
        use crate::{EventLoop, RunMode, next_tick};
        use std::cell::Cell;
        use std::rc::Rc;
        for in_tick in [false, true] {
            let lp = EventLoop::builder().virtual_time(true).build().unwrap();
            let runs = Rc::new(Cell::new(0));
            let token = Rc::new(());
            let (r, t) = (runs.clone(), token.clone());
            let _iv = lp.enter(|| {
                set_interval(5, move || {
                    let _ = &t;
                    r.set(r.get() + 1);
                    if in_tick {
                        next_tick(|| panic!("tick after the interval's run"));
                    } else {
                        panic!("interval run");
                    }
                })
            });
            let res = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default)));
            assert!(res.is_err(), "the panic leaves run()");
            assert_eq!(runs.get(), 1);
            assert_eq!(Rc::strong_count(&token), 1, "the interval was dropped");
            assert!(!lp.run(RunMode::Default), "nothing keeps the loop alive");
            assert_eq!(runs.get(), 1);
        }
    }
}

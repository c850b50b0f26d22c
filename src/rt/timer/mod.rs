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

mod delay;
mod handle;
mod lists;
pub(crate) mod timers;
mod wheel;

use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};

use crate::rt::callback::SmallFn;
use crate::rt::callback::{Callback, Site};
use crate::rt::context::with_core;
use crate::rt::core::Core;
use crate::rt::trace::observer as trace;
use crate::rt::trace::replay::Queue;
pub use delay::{Delay, TIMEOUT_MAX};
pub use handle::Timer;
use handle::record_armed;
use timers::{TimerData, Timers};
use wheel::Key;

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
            list: self.lists.attach(delay_ms),
            repeat,
            keep: self.refs.add(),
        };
        self.wheel.insert(when, seq, data)
    }

    /// Takes a cleared timer off the wheel, giving its keep-alive flag
    /// back; hands back its callback (to drop outside the wheel's borrow).
    #[inline]
    fn remove(&mut self, key: Key) -> Option<(SmallFn, Site)> {
        let data = self.wheel.remove(key)?;
        self.refs.remove(data.keep);
        self.lists.detach(data.list);
        Some((data.cb, data.site))
    }

    /// Takes a one-shot timer that is about to run off the wheel; hands
    /// back its callback and site.
    #[inline]
    fn remove_fired(&mut self, key: Key) -> (SmallFn, Site) {
        let data = self.wheel.remove(key).expect("ready key is live");
        self.refs.remove(data.keep);
        self.lists.detach_fired(data.list);
        (data.cb, data.site)
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
    {
        let t = &mut *core.timers.borrow_mut();
        t.wheel.advance(now_ms);
        // Node's order: every due timer of a list before the next list
        // (`lists`); the same as the wheel's unless the loop is late.
        let ready = t.wheel.ready().map(|(when, d)| (d.list, when));
        if let Some(ranks) = t.lists.plan(ready) {
            t.wheel.reorder_ready(ranks);
        }
    }
    let mut ran = 0;
    loop {
        let fire = {
            let t = &mut *core.timers.borrow_mut();
            // Start loading a callback a few timers ahead: with many timers
            // its closure is rarely still in the cache.
            if let Some(data) = t.wheel.peek_ready(4) {
                data.cb.prefetch();
            }
            let Some(key) = t.wheel.pop_ready() else {
                t.lists.end_pass();
                break;
            };
            let data = t.wheel.get_mut(key).expect("ready key is live");
            // Moving on to the next list finishes the one before (Node
            // gives it a new id, or deletes it if it ran empty).
            while t.lists.current().is_some_and(|l| l != data.list) {
                t.lists.finish_list();
            }
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
                let (cb, site) = t.remove_fired(key);
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
    let t = &mut *core.timers.borrow_mut();
    let seq = t.next_seq();
    match t.wheel.get_mut(key) {
        Some(data) => {
            data.cb = cb;
            let when = start_ms + t.lists.ms(data.list) as u64;
            let site = data.site;
            t.wheel.reschedule(key, when, seq);
            record_armed(core, key, site, when);
            None
        }
        None => Some(cb),
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

/// [`set_timeout`], with the callback given its own [`Timer`] (what Node's
/// callback reaches as `this`), to read it from inside (a one-shot is no
/// longer [active](Timer::is_active) once its callback runs) or to pass it
/// on. The same ordering and panics as [`set_timeout`].
#[track_caller]
pub fn set_timeout_with(delay: impl Into<Delay>, f: impl FnOnce(Timer) + 'static) -> Timer {
    let timer = schedule(
        "set_timeout_with",
        delay.into(),
        SmallFn::noop(),
        false,
        Location::caller(),
    );
    timer.set_callback(SmallFn::once(move || f(timer)));
    timer
}

/// [`set_interval`], with the callback given its own [`Timer`] (Node's
/// `this` in a `setInterval` callback), so that it can clear itself, change
/// its [repeat](Timer::set_repeat) or [unref](Timer::unref) itself. The
/// same ordering and panics as [`set_interval`].
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let runs = Rc::new(Cell::new(0));
/// let r = runs.clone();
/// evloop::run(move || {
///     let _ = evloop::set_interval_with(1, move |me| {
///         r.set(r.get() + 1);
///         if r.get() == 3 {
///             me.clear(); // clearInterval(this)
///         }
///     });
/// });
/// assert_eq!(runs.get(), 3);
/// ```
#[track_caller]
#[must_use = "an interval runs until cleared: keep the Timer to clear it"]
pub fn set_interval_with(delay: impl Into<Delay>, mut f: impl FnMut(Timer) + 'static) -> Timer {
    let timer = schedule(
        "set_interval_with",
        delay.into(),
        SmallFn::noop(),
        true,
        Location::caller(),
    );
    timer.set_callback(SmallFn::repeating(move || f(timer)));
    timer
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

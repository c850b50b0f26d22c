//! [`Timer`], the handle to a timer: Node's `Timeout` methods (`refresh`,
//! `ref`/`unref`, `hasRef`) and libuv's timer calls (`again`, repeat, due
//! time, `uv_is_active`, `uv_close`).

use std::fmt;
use std::panic::Location;

use crate::rt::callback::Site;
use crate::rt::callback::{Callback, SmallFn};
use crate::rt::context::with_core;
use crate::rt::core::Core;
use crate::rt::timer::delay::TIMEOUT_MAX;
use crate::rt::timer::timers::Timers;
use crate::rt::timer::wheel::Key;
use crate::rt::trace::observer as trace;
use crate::rt::trace::replay::Queue;

/// Handle to a timer from [`set_timeout`](crate::set_timeout) or [`set_interval`](crate::set_interval) (Node's
/// `Timeout` object). It is `Copy`; every copy names the same timer.
///
/// Handles are generational: clearing, refreshing or re-referencing a timer
/// that already fired or was cleared, or one from another loop, is a harmless
/// no-op even if its storage has been reused by a newer timer.
///
/// The methods act on the loop running on this thread and panic if none is.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timer {
    pub(super) loop_id: u32,
    pub(super) key: Key,
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

    /// Gives a timer just scheduled its callback (for the `_with`
    /// schedulers, whose callback holds the timer).
    pub(super) fn set_callback(self, cb: SmallFn) {
        let old = self.with_timers("Timer::set_callback", |t, _| {
            let d = t.wheel.get_mut(self.key).expect("checked live");
            std::mem::replace(&mut d.cb, cb)
        });
        drop(old);
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

    /// Same as [`clear_timeout`](crate::clear_timeout).
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

    /// Restarts the countdown: the timer now fires its delay after the
    /// loop's current time (read afresh), after timers created before this
    /// call with the same deadline (Node's `timeout.refresh()`). Returns the
    /// timer, as Node's does, for chaining. Unlike Node, a one-shot timer
    /// that already fired is not re-armed (its `FnOnce` is spent: see
    /// [`Timer::is_active`]); calling it on an interval from inside its own
    /// callback does nothing either, since the interval re-arms itself when
    /// the callback returns.
    #[track_caller]
    pub fn refresh(self) -> Timer {
        self.restart("Timer::refresh");
        self
    }

    /// Restarts an interval: its next run is its repeat after the loop's
    /// current time (libuv's `uv_timer_again`). Returns whether it did: a
    /// timer that does not repeat (a one-shot, or an interval given
    /// [`set_repeat(0)`](Timer::set_repeat)) or that is gone is left alone,
    /// as libuv leaves a non-repeating timer. From inside the interval's own
    /// callback it does nothing: the interval re-arms itself when the
    /// callback returns.
    #[track_caller]
    pub fn again(self) -> bool {
        self.repeat() > 0 && self.restart("Timer::again")
    }

    /// Re-arms a pending timer for its delay after the loop's time, read
    /// afresh; whether it was pending (and not running its callback).
    #[track_caller]
    fn restart(self, what: &str) -> bool {
        with_core(what, |core| core.clock.invalidate());
        let restarted = self.with_timers(what, |t, now_ms| {
            if !t.wheel.is_scheduled(self.key) {
                return None;
            }
            let seq = t.next_seq();
            let (list, site) = t.wheel.get(self.key).map(|d| (d.list, d.site))?;
            let when = now_ms + t.lists.ms(list) as u64;
            t.wheel
                .reschedule(self.key, when, seq)
                .then_some((when, site))
        });
        let Some(Some((when, site))) = restarted else {
            return false;
        };
        with_core(what, |core| record_armed(core, self.key, site, when));
        true
    }

    /// The interval's repeat in milliseconds, or 0 for a timer that does not
    /// repeat or is gone (libuv's `uv_timer_get_repeat`).
    #[track_caller]
    pub fn repeat(self) -> u32 {
        self.with_timers("Timer::repeat", |t, _| {
            let d = t.wheel.get(self.key).expect("checked live");
            if d.repeat { t.lists.ms(d.list) } else { 0 }
        })
        .unwrap_or(0)
    }

    /// Changes an interval's repeat, in milliseconds (libuv's
    /// `uv_timer_set_repeat`). It takes effect when the interval is next
    /// re-armed: the run already scheduled keeps its time. So
    /// `set_interval(100, f)` then `set_repeat(20)` runs `f` after 100 ms,
    /// then every 20 ms: a first timeout that differs from the repeat, as
    /// `uv_timer_start(t, cb, 100, 20)`. `0` makes the scheduled run the last
    /// one. A repeat above [`TIMEOUT_MAX`] is taken as 1 ms, as
    /// [`Delay`](crate::Delay) takes it.
    ///
    /// Returns whether the timer can take a repeat: `false` for a one-shot
    /// timer (its callback is a `FnOnce`) and one that is gone.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let runs = Rc::new(RefCell::new(Vec::new()));
    /// let r = runs.clone();
    /// evloop::EventLoop::builder().virtual_time(true).build().unwrap().run_main(move || {
    ///     let t = evloop::set_interval_with(100, move |t| {
    ///         r.borrow_mut().push(evloop::now());
    ///         if r.borrow().len() == 3 {
    ///             t.clear();
    ///         }
    ///     });
    ///     assert!(t.set_repeat(20));
    /// });
    /// assert_eq!(*runs.borrow(), [100, 120, 140]);
    /// ```
    #[track_caller]
    pub fn set_repeat(self, ms: u32) -> bool {
        self.with_timers("Timer::set_repeat", |t, _| {
            let d = t.wheel.get_mut(self.key).expect("checked live");
            if !d.cb.is_repeating() && !d.repeat {
                return false;
            }
            if ms == 0 {
                d.repeat = false;
                return true;
            }
            d.repeat = true;
            let ms = if ms <= TIMEOUT_MAX { ms } else { 1 };
            if t.lists.ms(d.list) != ms {
                // Node's lists are by duration: the next re-arm goes to the
                // new duration's list.
                t.lists.detach(d.list);
                d.list = t.lists.attach(ms);
            }
            true
        })
        .unwrap_or(false)
    }

    /// Milliseconds until the timer is due, from the loop's cached time; 0
    /// if it is due, running its callback, or gone (libuv's
    /// `uv_timer_get_due_in`).
    #[track_caller]
    pub fn due_in(self) -> u64 {
        self.with_timers("Timer::due_in", |t, now_ms| {
            t.wheel
                .when(self.key)
                .map_or(0, |when| when.saturating_sub(now_ms))
        })
        .unwrap_or(0)
    }

    /// Whether the timer is pending: scheduled, due, or an interval running
    /// its callback (libuv's `uv_is_active`). A one-shot timer is inactive
    /// from the moment its callback starts.
    #[track_caller]
    pub fn is_active(self) -> bool {
        self.with_timers("Timer::is_active", |_, _| ()).is_some()
    }

    /// Stops the timer and calls `cb` in the close phase of this iteration
    /// (libuv's `uv_close` on a timer): after the check phase's immediates,
    /// before the next timers phase. `cb` runs even if the timer had already
    /// fired or been cleared; closing one twice runs both callbacks.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let out = Rc::new(RefCell::new(Vec::new()));
    /// let o = out.clone();
    /// evloop::run(move || {
    ///     let (a, b, c) = (o.clone(), o.clone(), o.clone());
    ///     let t = evloop::set_timeout(10, move || a.borrow_mut().push("never"));
    ///     evloop::set_immediate(move || b.borrow_mut().push("immediate"));
    ///     t.close(move || c.borrow_mut().push("timer closed"));
    /// });
    /// assert_eq!(*out.borrow(), ["immediate", "timer closed"]);
    /// ```
    #[track_caller]
    pub fn close(self, cb: impl FnOnce() + 'static) {
        let site = Location::caller();
        self.clear();
        with_core("Timer::close", |core| {
            core.push_close(Callback::new(cb, site))
        });
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

/// Tells a replay recording that timer `key` (scheduled at `site`) is due
/// at loop time `when` (armed, re-armed or refreshed).
pub(super) fn record_armed(core: &Core, key: Key, site: Site, when: u64) {
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

//! The timers' data, which `Core` owns: the wheel of pending timers, what it
//! stores per timer, and their counts. The functions that schedule and run
//! timers on a loop are in the parent module.

use crate::rt::callback::{Site, SmallFn};
use crate::rt::refs::{KeepAlive, RefCount};
use crate::rt::timer::lists::Lists;
use crate::rt::timer::wheel::Wheel;
use crate::rt::trace::observer as trace;

/// What the wheel stores per timer (32 bytes; the wheel adds 32).
pub(super) struct TimerData {
    /// `FnOnce` for a timeout, `FnMut` for an interval.
    pub(super) cb: SmallFn,
    pub(super) site: Site,
    /// Its Node timer list (`Lists`), which knows the delay in ms.
    pub(super) list: u32,
    pub(super) repeat: bool,
    pub(super) keep: KeepAlive,
}

/// All timers of one loop.
pub(crate) struct Timers {
    pub(super) wheel: Wheel<TimerData>,
    /// Node's one-list-per-duration bookkeeping, for the order of a late
    /// pass: every `TimerData` in the wheel counts in its list.
    pub(super) lists: Lists,
    /// Creation order: the tie-break between equal deadlines. Re-arming
    /// (interval, `refresh`) takes a new number, as Node appends the timer to
    /// the end of its list.
    pub(super) seq: u64,
    /// Timers whose `keep` flag is on: every `TimerData` leaves the wheel
    /// through `Timers::remove`, which hands its flag back (or with the
    /// whole table, at teardown).
    pub(super) refs: RefCount,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            wheel: Wheel::new(),
            lists: Lists::new(),
            seq: 0,
            refs: RefCount::default(),
        }
    }

    /// Every pending timer's callback and scheduling site (loop teardown,
    /// which drops them one by one).
    pub(crate) fn into_callbacks(self) -> impl Iterator<Item = (SmallFn, Site)> {
        self.wheel.into_payloads().map(|t| (t.cb, t.site))
    }

    /// Referenced timers: these keep the loop alive.
    pub(crate) fn referenced(&self) -> usize {
        self.refs.get()
    }

    /// Timers pending (scheduled, due, or an interval whose callback runs).
    pub(crate) fn len(&self) -> usize {
        self.wheel.len()
    }

    /// Pending timers as (flow id, scheduling site), by deadline then
    /// creation.
    pub(crate) fn sites(&self) -> Vec<(u64, Site)> {
        let mut all: Vec<_> = self
            .wheel
            .iter()
            .map(|(key, when, seq, d)| {
                (
                    when,
                    seq,
                    trace::timer_flow(key.index, key.generation),
                    d.site,
                )
            })
            .collect();
        all.sort_by_key(|&(when, seq, _, _)| (when, seq));
        all.into_iter().map(|(_, _, id, site)| (id, site)).collect()
    }

    /// Pending timers as (flow id, site, referenced), by deadline then
    /// creation: what `Core::walk` lists.
    pub(crate) fn handles(&self) -> Vec<(u64, Site, bool)> {
        let mut all: Vec<_> = self
            .wheel
            .iter()
            .map(|(key, when, seq, d)| {
                let id = trace::timer_flow(key.index, key.generation);
                ((when, seq), (id, d.site, d.keep.is_on()))
            })
            .collect();
        all.sort_by_key(|&(order, _)| order);
        all.into_iter().map(|(_, handle)| handle).collect()
    }

    /// Whether the timer behind this flow id is still pending.
    pub(crate) fn has_flow(&self, id: u64) -> bool {
        self.wheel
            .iter()
            .any(|(key, ..)| trace::timer_flow(key.index, key.generation) == id)
    }

    /// The first `n` distinct millisecond ticks at which pending timers are
    /// due, earliest first (exact: a walk of every timer, for the seeded
    /// mode's late wakes).
    pub(crate) fn next_deadlines(&self, n: usize) -> Vec<u64> {
        let mut all: Vec<u64> = self.wheel.iter().map(|(_, when, ..)| when).collect();
        all.sort_unstable();
        all.dedup();
        all.truncate(n);
        all
    }

    /// The millisecond tick of the next possible expiry.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.wheel.next_deadline()
    }
}

//! The loop's notion of time: libuv's cached "now" plus a high-resolution
//! clock, either real (monotonic) or virtual.
//!
//! The cached time is read lazily: an iteration only marks it stale, and the
//! first reader in that iteration fetches it. An iteration that has no timer
//! to look at therefore never asks the OS for the time, and every reader in one
//! iteration still sees one consistent value, as with `uv_now`.

use std::cell::Cell;
use std::time::Instant;

pub(crate) struct Clock {
    start: Instant,
    /// `Some(ns)`: virtual time, which only moves when the loop jumps it.
    virtual_ns: Option<Cell<u64>>,
    cached_ns: Cell<u64>,
    /// `cached_ns / 1_000_000`, kept to spare a division per timer.
    cached_ms: Cell<u64>,
    fresh: Cell<bool>,
}

impl Clock {
    pub(crate) fn new(virtual_time: bool) -> Clock {
        Clock {
            start: Instant::now(),
            virtual_ns: virtual_time.then(|| Cell::new(0)),
            cached_ns: Cell::new(0),
            cached_ms: Cell::new(0),
            fresh: Cell::new(false),
        }
    }

    pub(crate) fn is_virtual(&self) -> bool {
        self.virtual_ns.is_some()
    }

    /// Start of an iteration (`uv_update_time`): the next read refreshes.
    pub(crate) fn invalidate(&self) {
        self.fresh.set(false);
    }

    /// The cached loop time in nanoseconds since the loop was created.
    pub(crate) fn now_ns(&self) -> u64 {
        self.refresh();
        self.cached_ns.get()
    }

    /// The cached loop time in whole milliseconds (`uv_now`).
    pub(crate) fn now_ms(&self) -> u64 {
        self.refresh();
        self.cached_ms.get()
    }

    /// The time the loop last read, without reading the clock: what an
    /// observer may look at without changing what the loop will see.
    pub(crate) fn cached_ms(&self) -> u64 {
        self.cached_ms.get()
    }

    #[inline]
    fn refresh(&self) {
        if !self.fresh.get() {
            let ns = self.hrtime_ns();
            self.cached_ns.set(ns);
            self.cached_ms.set(ns / 1_000_000);
            self.fresh.set(true);
        }
    }

    /// The clock itself, not cached (`uv_hrtime`, relative to loop start).
    pub(crate) fn hrtime_ns(&self) -> u64 {
        match &self.virtual_ns {
            Some(v) => v.get(),
            None => self.start.elapsed().as_nanos() as u64,
        }
    }

    /// Virtual time only: move the clock forward by `ns` without refreshing
    /// the cached time, as real time passing inside a callback would.
    /// Returns whether the clock is virtual (a real one cannot be moved).
    pub(crate) fn advance(&self, ns: u64) -> bool {
        match &self.virtual_ns {
            Some(v) => {
                v.set(v.get().saturating_add(ns));
                true
            }
            None => false,
        }
    }

    /// Virtual time only: jump forward to `ns` (never backwards).
    pub(crate) fn jump_to(&self, ns: u64) {
        if let Some(v) = &self.virtual_ns {
            if ns > v.get() {
                v.set(ns);
            }
            self.fresh.set(false);
        }
    }
}

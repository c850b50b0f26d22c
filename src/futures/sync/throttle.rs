//! What the rate limiters share: the `Gate` trait (the rule for when a start
//! may happen) and `Throttle`/`WaitTurn`, a FIFO line in front of a gate
//! whose first waiter sleeps on a loop timer until the gate opens.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::line::Line;
use crate::futures::timer::{Sleep, sleep};
use crate::rt::context::with_core;
use crate::rt::timer::TIMEOUT_MAX;

/// A rule for when starts may happen.
pub(super) trait Gate {
    /// Records a start at `now` (ns) if the rule allows one; otherwise how
    /// many ns to wait before asking again.
    fn try_start(&mut self, now: u64) -> Result<(), u64>;
}

/// The longest timer there is; a longer wait is done in several.
const MAX_SLEEP: Duration = Duration::from_millis(TIMEOUT_MAX as u64);

/// A rate limiter's state: its rule and its line of waiters.
pub(super) struct Throttle<G> {
    /// When starts may happen.
    pub(super) gate: G,
    /// Who waits to start, first come first served.
    pub(super) line: Line,
}

/// The loop's high-resolution clock, in ns; panics naming `what` when no
/// loop runs on this thread.
#[inline]
fn loop_time_ns(what: &str) -> u64 {
    with_core(what, |core| core.hrtime_ns())
}

impl<G: Gate> Throttle<G> {
    /// Starts now if nobody waits and the gate allows it; `what` names the
    /// caller in the panic when no loop runs.
    pub(super) fn try_acquire(state: &RefCell<Throttle<G>>, what: &str) -> bool {
        let now = loop_time_ns(what);
        let mut t = state.borrow_mut();
        t.line.waiters.is_empty() && t.gate.try_start(now).is_ok()
    }
}

/// Waiting for a start: joins the line at the first poll; the first in line
/// sleeps on a loop timer until the gate opens.
pub(super) struct WaitTurn<G> {
    state: Rc<RefCell<Throttle<G>>>,
    what: &'static str,
    id: Option<u64>,
    sleep: Option<Sleep>,
    done: bool,
}

impl<G: Gate> WaitTurn<G> {
    /// A wait on `state`, not in line yet; `what` names the future in
    /// panics.
    pub(super) fn new(state: &Rc<RefCell<Throttle<G>>>, what: &'static str) -> WaitTurn<G> {
        WaitTurn {
            state: state.clone(),
            what,
            id: None,
            sleep: None,
            done: false,
        }
    }

    /// The poll of the limiter's acquire future: ready once this waiter
    /// is first in line and the gate lets it start (which records the start).
    pub(super) fn poll_turn(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            panic!("evloop: {} polled after it completed", self.what);
        }
        loop {
            let now = loop_time_ns(self.what);
            let mut t = self.state.borrow_mut();
            let id = match self.id {
                Some(id) => id,
                None => {
                    if t.line.waiters.is_empty() && t.gate.try_start(now).is_ok() {
                        self.done = true;
                        return Poll::Ready(());
                    }
                    let id = t.line.join(cx);
                    self.id = Some(id);
                    id
                }
            };
            if !t.line.is_first(id) {
                t.line.register(id, cx);
                return Poll::Pending;
            }
            match t.gate.try_start(now) {
                Ok(()) => {
                    t.line.waiters.remove(&id);
                    let next = t.line.wake_first();
                    drop(t);
                    self.id = None;
                    self.done = true;
                    self.sleep = None;
                    // The next in line looks at the gate now: it may start
                    // too, or sleep until it can.
                    if let Some(w) = next {
                        w.wake();
                    }
                    return Poll::Ready(());
                }
                Err(wait) => {
                    drop(t);
                    let wait = Duration::from_nanos(wait).min(MAX_SLEEP);
                    let timer = self.sleep.get_or_insert_with(|| sleep(wait));
                    if Pin::new(timer).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    // The timer fired; a real clock may still be a hair
                    // short of the deadline, so ask the gate again.
                    self.sleep = None;
                }
            }
        }
    }
}

impl<G> Drop for WaitTurn<G> {
    fn drop(&mut self) {
        let Some(id) = self.id else {
            return;
        };
        let (removed, next) = {
            let mut t = self.state.borrow_mut();
            let first = t.line.is_first(id);
            let removed = t.line.waiters.remove(&id);
            // The new first in line must start its own wait.
            let next = if first { t.line.wake_first() } else { None };
            (removed, next)
        };
        drop(removed);
        if let Some(w) = next {
            w.wake();
        }
    }
}

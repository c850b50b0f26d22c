//! The callback queues: next-tick, microtask and immediate (check phase).
//!
//! Node's rule: after *every* callback the whole next-tick queue runs, then
//! the whole microtask queue, and again until both are empty. The loop calls
//! [`Core::invoke`](crate::rt::core::Core) for that; this module holds the
//! queues and their public scheduling functions.

use std::panic::Location;

use crate::rt::callback::Callback;

use crate::rt::context::with_core;

use crate::rt::core::Core;
use crate::rt::queues::Immediates;
use crate::rt::trace::observer as trace;
use crate::rt::trace::replay::Queue;

/// Schedules `f` on the **next-tick queue** (Node's `process.nextTick`).
///
/// # Ordering
/// Runs after the current callback (or the main script) returns and before any
/// microtask, timer, immediate or I/O callback. Ticks queued while the queue is
/// draining run in the same drain, so a tick that always schedules another
/// starves the loop, exactly as in Node.
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
///     evloop::queue_microtask(move || a.borrow_mut().push("microtask"));
///     evloop::next_tick(move || b.borrow_mut().push("tick"));
///     o.borrow_mut().push("sync");
/// });
/// assert_eq!(*out.borrow(), ["sync", "tick", "microtask"]);
/// ```
#[track_caller]
pub fn next_tick(f: impl FnOnce() + 'static) {
    let site = Location::caller();
    with_core("next_tick", |core| core.push_tick(Callback::new(f, site)));
}

/// Schedules `f` on the **microtask queue** (Node's `queueMicrotask`, and the
/// queue promise reactions use).
///
/// # Ordering
/// Runs after the next-tick queue is empty, once the current callback returns;
/// microtasks queued while draining run in the same drain. A next tick queued
/// by a microtask runs after the microtask queue is empty.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn queue_microtask(f: impl FnOnce() + 'static) {
    let site = Location::caller();
    with_core("queue_microtask", |core| {
        core.record(|r, ms| r.push(ms, Queue::Micro, None, site, ""));
        core.microtasks
            .borrow_mut()
            .push_back(Callback::new(f, site))
    });
}

/// Runs the immediates that were queued when the check phase began; those
/// queued by them wait for the next iteration (Node's snapshot rule).
pub(crate) fn run_check<const OBSERVED: bool>(core: &Core) -> usize {
    let n = core.immediates.borrow().snapshot_len();
    let mut ran = 0;
    for _ in 0..n {
        let next = core.immediates.borrow_mut().pop();
        match next {
            Some((seq, Some(cb))) => {
                if OBSERVED && let Some(o) = &core.observer {
                    o.flow_in(
                        Queue::Immediate,
                        trace::immediate_flow(seq),
                        std::time::Instant::now(),
                    );
                }
                core.invoke_as::<OBSERVED>(cb);
                ran += 1;
            }
            Some((_, None)) => {}
            None => break,
        }
    }
    ran
}

/// A queued [`set_immediate`] callback. Copy it freely: clearing through any
/// copy, or clearing twice, is harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Immediate {
    loop_id: u32,
    seq: u64,
}

/// Schedules `f` for the **check phase** (Node's `setImmediate`).
///
/// # Ordering
/// Immediates run in the order they were scheduled, in the check phase right
/// after the poll phase, each followed by the next-tick and microtask drain.
/// One scheduled while the check phase runs waits for the next iteration, after
/// that iteration's due timers, so an immediate that re-schedules itself never
/// starves the loop. Inside an I/O callback (poll phase) an immediate always
/// runs before any timer, even `set_timeout(0)`.
///
/// A pending referenced immediate keeps the loop alive and makes the poll
/// phase not block.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn set_immediate(f: impl FnOnce() + 'static) -> Immediate {
    let site = Location::caller();
    with_core("set_immediate", |core| {
        let seq = core.immediates.borrow_mut().push(Callback::new(f, site));
        if let Some(o) = &core.observer {
            o.flow_out(trace::immediate_flow(seq));
            core.record(|r, ms| {
                r.push(
                    ms,
                    Queue::Immediate,
                    Some(trace::immediate_flow(seq)),
                    site,
                    "",
                )
            });
        }
        Immediate {
            loop_id: core.id,
            seq,
        }
    })
}

/// Cancels an immediate that has not run yet (Node's `clearImmediate`). A no-op
/// for one that already ran or was cleared, or that belongs to another loop.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn clear_immediate(immediate: Immediate) {
    immediate.clear();
}

impl Immediate {
    /// Runs `f` on this immediate's queue, if it belongs to the current
    /// loop (a handle from another loop names nothing here).
    #[track_caller]
    fn with_queue<R>(self, what: &str, f: impl FnOnce(&mut Immediates) -> R) -> Option<R> {
        with_core(what, |core| {
            (core.id == self.loop_id).then(|| f(&mut core.immediates.borrow_mut()))
        })
    }

    /// Same as [`clear_immediate`].
    #[track_caller]
    pub fn clear(self) {
        let cb = self.with_queue("Immediate::clear", |imm| imm.remove(self.seq));
        if cb.as_ref().is_some_and(Option::is_some) {
            let id = trace::immediate_flow(self.seq);
            with_core("Immediate::clear", |core| {
                core.record(|r, ms| r.cancel(ms, Queue::Immediate, id));
            });
        }
        // Dropped outside the queue's borrow: its destructor may schedule.
        drop(cb);
    }

    /// Clears the immediate and calls `cb` in the close phase of this
    /// iteration (libuv's `uv_close` on the check handle behind it): after
    /// the check phase, before the next timers phase. `cb` runs even if the
    /// immediate had already run or been cleared.
    #[track_caller]
    pub fn close(self, cb: impl FnOnce() + 'static) {
        let site = Location::caller();
        self.clear();
        with_core("Immediate::close", |core| {
            core.push_close(Callback::new(cb, site))
        });
    }

    /// Lets the loop exit even though this immediate is pending (it still runs
    /// if the loop goes on for another reason).
    #[track_caller]
    pub fn unref(self) {
        self.with_queue("Immediate::unref", |imm| imm.set_ref(self.seq, false));
    }

    /// Undoes [`Immediate::unref`].
    #[track_caller]
    pub fn ref_(self) {
        self.with_queue("Immediate::ref", |imm| imm.set_ref(self.seq, true));
    }

    /// Names the immediate for [`snapshot`](crate::snapshot) labels in
    /// teaching mode, shown as `name (file:line)`.
    pub fn set_name(self, name: &'static str) {
        with_core("Immediate::set_name", |core| {
            if core.id == self.loop_id && core.immediates.borrow_mut().is_waiting(self.seq) {
                let id = trace::immediate_flow(self.seq);
                core.record(|r, ms| r.name(ms, Queue::Immediate, id, name));
                core.name(id, name);
            }
        });
    }

    /// Whether this immediate is pending and keeps the loop alive.
    #[track_caller]
    pub fn has_ref(self) -> bool {
        self.with_queue("Immediate::has_ref", |imm| imm.has_ref(self.seq))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::queues::{Micro, Microtasks};
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    /// Calls and polls come out in push order whatever the interleaving,
    /// `push_front` goes before everything, and `iter` lists the same order.
    #[test]
    fn microtasks_keep_one_fifo_across_calls_and_polls() {
        let ran = Rc::new(RefCell::new(Vec::new()));
        let call = |n: u64| {
            let ran = ran.clone();
            Callback::new(move || ran.borrow_mut().push(n), Location::caller())
        };
        let mut q = Microtasks::default();
        assert!(q.is_empty() && !q.is_single());
        // Kinds: c = call, p = poll; values say the expected order.
        let script = [
            ('p', 1),
            ('p', 2),
            ('c', 3),
            ('p', 4),
            ('c', 5),
            ('c', 6),
            ('p', 7),
        ];
        for (kind, n) in script {
            match kind {
                'c' => q.push_back(call(n)),
                _ => q.push_poll(n),
            }
        }
        q.push_front(call(0));
        assert_eq!(q.len(), 8);
        let listed: Vec<bool> = q.iter().map(|item| item.is_err()).collect();
        assert_eq!(
            listed,
            [false, true, true, false, true, false, false, true],
            "iter shows polls (true) and calls in queue order"
        );
        let mut order = Vec::new();
        while let Some(m) = q.pop_front() {
            match m {
                Micro::Call(cb) => {
                    cb.f.call_once();
                    order.push(*ran.borrow().last().unwrap());
                }
                Micro::Poll(key) => order.push(key),
            }
        }
        assert_eq!(order, [0, 1, 2, 3, 4, 5, 6, 7]);
        assert!(q.is_empty());
        // A single poll is recognised and popped as such.
        q.push_poll(9);
        assert!(q.is_single());
        assert_eq!(q.pop_sole_poll(), Some(9));
        assert!(q.is_empty());
        // Push at the front of a queue that starts with polls.
        q.push_poll(2);
        q.push_front(call(1));
        assert!(matches!(q.pop_front(), Some(Micro::Call(_))));
        assert!(matches!(q.pop_front(), Some(Micro::Poll(2))));
        assert!(q.pop_front().is_none());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Call,
        Poll,
        Front,
        Pop,
    }

    /// `Microtasks` against one `VecDeque` of both kinds: the same items
    /// come out in the same order, and `len`, `is_empty`, `is_single` and
    /// `iter` agree at every step.
    #[test]
    fn microtasks_match_one_deque() {
        let _w = crate::test_watchdog::watchdog();
        let op = |rng: &mut crate::test_prop::Rng| {
            [Op::Call, Op::Poll, Op::Front, Op::Pop][rng.weighted(&[3, 3, 1, 4])].clone()
        };
        crate::test_prop::check(150, 1..150, op, |ops| {
            let ran = Rc::new(RefCell::new(Vec::new()));
            let mut q = Microtasks::default();
            // `Ok(n)`: a call that records n; `Err(n)`: the poll of key n.
            let mut model: VecDeque<Result<u64, u64>> = VecDeque::new();
            for (n, op) in (0u64..).zip(ops.iter().cloned()) {
                let call = || {
                    let ran = ran.clone();
                    Callback::new(move || ran.borrow_mut().push(n), Location::caller())
                };
                match op {
                    Op::Call => {
                        q.push_back(call());
                        model.push_back(Ok(n));
                    }
                    Op::Poll => {
                        q.push_poll(n);
                        model.push_back(Err(n));
                    }
                    Op::Front => {
                        q.push_front(call());
                        model.push_front(Ok(n));
                    }
                    Op::Pop => {
                        let got = q.pop_front().map(|m| match m {
                            Micro::Call(cb) => {
                                cb.f.call_once();
                                Ok(*ran.borrow().last().unwrap())
                            }
                            Micro::Poll(key) => Err(key),
                        });
                        assert_eq!(got, model.pop_front());
                    }
                }
                assert_eq!(q.len(), model.len());
                assert_eq!(q.is_empty(), model.is_empty());
                assert_eq!(q.is_single(), model.len() == 1);
                let kinds: Vec<bool> = q.iter().map(|i| i.is_err()).collect();
                let expected: Vec<bool> = model.iter().map(|i| i.is_err()).collect();
                assert_eq!(kinds, expected);
            }
        });
    }
}

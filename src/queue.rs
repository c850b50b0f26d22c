//! The callback queues: next-tick, microtask and immediate (check phase).
//!
//! Node's rule: after *every* callback the whole next-tick queue runs, then
//! the whole microtask queue, and again until both are empty. The loop calls
//! [`Core::invoke`](crate::event_loop::Core) for that; this module holds the
//! queues and their public scheduling functions.

use std::collections::VecDeque;
use std::panic::Location;

use crate::event_loop::{Callback, Core, Site, with_core};
use crate::reactor::set_ref_flag;
use crate::trace;

/// A callback waiting in a FIFO queue with the place that scheduled it.
pub(crate) type Queue = VecDeque<Callback>;

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
    with_core("next_tick", |core| {
        core.ticks.borrow_mut().push_back(Callback::new(f, site))
    });
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
        core.microtasks
            .borrow_mut()
            .push_back(Callback::new(f, site))
    });
}

struct Entry {
    cb: Callback,
    referenced: bool,
}

/// The check-phase queue. Positions are absolute sequence numbers so an
/// [`Immediate`] can clear its entry in O(1) without a search; a cleared entry
/// leaves a `None` that the check phase skips.
pub(crate) struct Immediates {
    queue: VecDeque<Option<Entry>>,
    /// Sequence number of `queue[0]`.
    base: u64,
    live: usize,
    referenced: usize,
}

impl Immediates {
    pub(crate) fn new() -> Immediates {
        Immediates {
            queue: VecDeque::new(),
            base: 0,
            live: 0,
            referenced: 0,
        }
    }

    /// Immediates waiting, referenced or not.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// Referenced immediates waiting: these keep the loop alive.
    pub(crate) fn referenced(&self) -> usize {
        self.referenced
    }

    /// Entries (including cleared gaps) the coming check phase will visit.
    pub(crate) fn snapshot_len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn pop(&mut self) -> Option<Option<Callback>> {
        let e = self.queue.pop_front()?;
        self.base += 1;
        Some(e.map(|e| self.forget(e)))
    }

    fn forget(&mut self, e: Entry) -> Callback {
        self.live -= 1;
        self.referenced -= e.referenced as usize;
        e.cb
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        self.queue.get_mut(i)?.as_mut()
    }

    /// Waiting immediates as (flow id, scheduling site), in run order.
    pub(crate) fn sites(&self) -> impl Iterator<Item = (u64, Site)> + '_ {
        (self.base..)
            .zip(self.queue.iter())
            .filter_map(|(seq, e)| Some((trace::immediate_flow(seq), e.as_ref()?.cb.site)))
    }

    /// Whether the immediate behind this flow id is still waiting.
    pub(crate) fn has_flow(&self, id: u64) -> bool {
        self.sites().any(|(i, _)| i == id)
    }

    pub(crate) fn take_all(&mut self) -> Vec<Callback> {
        let all: Vec<_> = self.queue.drain(..).flatten().map(|e| e.cb).collect();
        self.base += all.len() as u64;
        self.live = 0;
        self.referenced = 0;
        all
    }
}

/// Runs the immediates that were queued when the check phase began; those
/// queued by them wait for the next iteration (Node's snapshot rule).
pub(crate) fn run_check<const O: bool>(core: &Core) -> usize {
    let n = core.immediates.borrow().snapshot_len();
    let mut ran = 0;
    for _ in 0..n {
        let (seq, next) = {
            let mut imm = core.immediates.borrow_mut();
            (imm.base, imm.pop())
        };
        match next {
            Some(Some(cb)) => {
                if O && let Some(o) = &core.observer {
                    o.flow_in(trace::immediate_flow(seq), std::time::Instant::now());
                }
                core.invoke_o::<O>(cb);
                ran += 1;
            }
            Some(None) => {}
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
        let mut imm = core.immediates.borrow_mut();
        let seq = imm.base + imm.queue.len() as u64;
        imm.queue.push_back(Some(Entry {
            cb: Callback::new(f, site),
            referenced: true,
        }));
        imm.live += 1;
        imm.referenced += 1;
        if let Some(o) = &core.observer {
            o.flow_out(trace::immediate_flow(seq));
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
    fn with_entry<R>(self, what: &str, f: impl FnOnce(&mut Immediates, u64) -> R) -> Option<R> {
        with_core(what, |core| {
            if core.id != self.loop_id {
                return None;
            }
            let mut imm = core.immediates.borrow_mut();
            imm.get_mut(self.seq)?;
            Some(f(&mut imm, self.seq))
        })
    }

    /// Same as [`clear_immediate`].
    #[track_caller]
    pub fn clear(self) {
        let cb = self.with_entry("Immediate::clear", |imm, seq| {
            let i = (seq - imm.base) as usize;
            let e = imm.queue[i].take().expect("checked live");
            imm.forget(e)
        });
        // Dropped outside the queue's borrow: its destructor may schedule.
        drop(cb);
    }

    /// Lets the loop exit even though this immediate is pending (it still runs
    /// if the loop goes on for another reason).
    #[track_caller]
    pub fn unref(self) {
        self.set_ref(false);
    }

    /// Undoes [`Immediate::unref`].
    #[track_caller]
    pub fn ref_(self) {
        self.set_ref(true);
    }

    #[track_caller]
    fn set_ref(self, on: bool) {
        self.with_entry("Immediate::ref", |imm, seq| {
            let e = imm.queue[(seq - imm.base) as usize]
                .as_mut()
                .expect("checked live");
            set_ref_flag(&mut e.referenced, &mut imm.referenced, on);
        });
    }

    /// Names the immediate for [`snapshot`](crate::snapshot) labels in
    /// teaching mode, shown as `name (file:line)`.
    pub fn set_name(self, name: &'static str) {
        with_core("Immediate::set_name", |core| {
            if core.id == self.loop_id && core.immediates.borrow_mut().get_mut(self.seq).is_some() {
                core.name(trace::immediate_flow(self.seq), name);
            }
        });
    }

    /// Whether this immediate is pending and keeps the loop alive.
    #[track_caller]
    pub fn has_ref(self) -> bool {
        self.with_entry("Immediate::has_ref", |imm, seq| {
            imm.get_mut(seq).is_some_and(|e| e.referenced)
        })
        .unwrap_or(false)
    }
}

/// The site a callback was scheduled from, for logs.
pub(crate) fn describe(site: Site) -> String {
    format!("{}:{}", site.file(), site.line())
}

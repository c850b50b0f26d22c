//! The callback queues' data, which `Core` owns: the FIFO of callbacks
//! (next ticks, pending and close callbacks), the microtask queue and the
//! check-phase queue. The functions that schedule on them and run the check
//! phase are in `queue`.

use std::collections::VecDeque;

use crate::rt::callback::{Callback, Site};
use crate::rt::refs::{KeepAlive, RefCount};
use crate::rt::trace::observer as trace;

/// A callback waiting in a FIFO queue with the place that scheduled it.
pub(crate) type Queue = VecDeque<Callback>;

/// One microtask, as [`Microtasks::pop_front`] hands it out.
pub(crate) enum Micro {
    Call(Callback),
    /// The poll of the task with this packed key (see `executor`).
    Poll(u64),
}

/// The microtask queue: one FIFO of callbacks and task polls.
///
/// A task poll is most of what an async program queues, and a program that
/// wakes a million tasks at once has a million of them waiting. As a
/// [`Callback`] each would take 24 bytes and a closure; here it is the task's
/// 8-byte key in a queue of its own (its site is in the task's slot), and
/// the runs record how the two queues interleave, so the order of the whole
/// is exactly the order of pushes.
#[derive(Default)]
pub(crate) struct Microtasks {
    calls: VecDeque<Callback>,
    polls: VecDeque<u64>,
    /// The first stretch of calls or of polls; empty (`len == 0`) exactly
    /// when the queue is. Kept out of `rest` because a queue is mostly one
    /// stretch, so most pushes and pops only count.
    head: Run,
    /// The stretches after `head`, alternating kinds, none empty.
    rest: VecDeque<Run>,
}

#[derive(Clone, Copy, Default)]
struct Run {
    polls: bool,
    len: usize,
}

impl Microtasks {
    pub(crate) fn len(&self) -> usize {
        self.calls.len() + self.polls.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.len == 0
    }

    /// Whether exactly one microtask is queued.
    #[inline]
    pub(crate) fn is_single(&self) -> bool {
        self.head.len == 1 && self.rest.is_empty()
    }

    /// Pops the only microtask queued, known to be a task poll (see
    /// `executor::run_sole_polls`).
    #[inline]
    pub(crate) fn pop_sole_poll(&mut self) -> Option<u64> {
        debug_assert!(self.is_single() && self.head.polls);
        self.head.len = 0;
        self.polls.pop_front()
    }

    #[inline]
    pub(crate) fn push_back(&mut self, cb: Callback) {
        self.calls.push_back(cb);
        self.extend_back(false);
    }

    /// Queues the poll of the task with packed key `key`.
    #[inline]
    pub(crate) fn push_poll(&mut self, key: u64) {
        self.polls.push_back(key);
        self.extend_back(true);
    }

    /// Puts a callback before everything queued (a panic handed back to the
    /// drain, see `executor::run_sole_polls`).
    pub(crate) fn push_front(&mut self, cb: Callback) {
        self.calls.push_front(cb);
        let call = Run {
            polls: false,
            len: 1,
        };
        if self.head.len == 0 {
            self.head = call;
        } else if !self.head.polls {
            self.head.len += 1;
        } else {
            self.rest
                .push_front(std::mem::replace(&mut self.head, call));
        }
    }

    #[inline]
    fn extend_back(&mut self, polls: bool) {
        let back = if self.rest.is_empty() {
            if self.head.len == 0 {
                self.head = Run { polls, len: 1 };
                return;
            }
            &mut self.head
        } else {
            self.rest.back_mut().expect("not empty")
        };
        if back.polls == polls {
            back.len += 1;
        } else {
            self.rest.push_back(Run { polls, len: 1 });
        }
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<Micro> {
        if self.head.len == 0 {
            return None;
        }
        self.head.len -= 1;
        let polls = self.head.polls;
        if self.head.len == 0
            && let Some(next) = self.rest.pop_front()
        {
            self.head = next;
        }
        // The run says which queue holds the next item, so it is there.
        if polls {
            self.polls.pop_front().map(Micro::Poll)
        } else {
            self.calls.pop_front().map(Micro::Call)
        }
    }

    /// Everything queued, in run order: a callback's site, or a task's key.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Result<Site, u64>> + '_ {
        let mut calls = self.calls.iter();
        let mut polls = self.polls.iter();
        let runs = std::iter::once(&self.head).chain(&self.rest);
        runs.flat_map(move |r| {
            let items: Vec<_> = if r.polls {
                polls.by_ref().take(r.len).map(|&k| Err(k)).collect()
            } else {
                calls.by_ref().take(r.len).map(|c| Ok(c.site)).collect()
            };
            items
        })
    }
}

/// A waiting immediate.
struct Entry {
    cb: Callback,
    keep: KeepAlive,
}

/// The check-phase queue. Positions are absolute sequence numbers so an
/// [`Immediate`](crate::rt::queue::Immediate) can clear its entry in O(1)
/// without a search; a cleared entry leaves a `None` that the check phase
/// skips.
///
/// Invariants (kept by the methods, the only code that sees the fields):
/// `live` is the number of `Some` entries, and `refs` counts those whose
/// flag is on; an entry leaves only through `pop`, `remove` or `take_all`,
/// each of which hands its flag back to `refs`.
pub(crate) struct Immediates {
    queue: VecDeque<Option<Entry>>,
    /// Sequence number of `queue[0]`.
    base: u64,
    live: usize,
    refs: RefCount,
}

impl Immediates {
    pub(crate) fn new() -> Immediates {
        Immediates {
            queue: VecDeque::new(),
            base: 0,
            live: 0,
            refs: RefCount::default(),
        }
    }

    /// Immediates waiting, referenced or not.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// Referenced immediates waiting: these keep the loop alive.
    pub(crate) fn referenced(&self) -> usize {
        self.refs.get()
    }

    /// Entries (including cleared gaps) the coming check phase will visit.
    pub(crate) fn snapshot_len(&self) -> usize {
        self.queue.len()
    }

    /// Queues `cb`, referenced; returns its sequence number.
    #[inline]
    pub(crate) fn push(&mut self, cb: Callback) -> u64 {
        let seq = self.base + self.queue.len() as u64;
        let keep = self.refs.add();
        self.queue.push_back(Some(Entry { cb, keep }));
        self.live += 1;
        seq
    }

    /// Takes the front entry for the check phase, with its sequence number:
    /// `None` inside when it was cleared, `None` outside when the queue is
    /// empty.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u64, Option<Callback>)> {
        let seq = self.base;
        let e = self.queue.pop_front()?;
        self.base += 1;
        Some((seq, e.map(|e| self.forget(e))))
    }

    /// Clears immediate `seq` if it is waiting; returns its callback, to be
    /// dropped outside the queue's borrow (its destructor may schedule).
    pub(crate) fn remove(&mut self, seq: u64) -> Option<Callback> {
        let e = self.position(seq)?.take()?;
        Some(self.forget(e))
    }

    /// Whether immediate `seq` is waiting.
    pub(crate) fn is_waiting(&mut self, seq: u64) -> bool {
        self.position(seq).is_some_and(|e| e.is_some())
    }

    /// `ref()` or `unref()` immediate `seq` if it is waiting.
    pub(crate) fn set_ref(&mut self, seq: u64, on: bool) {
        if let Some(i) = self.index(seq)
            && let Some(Some(e)) = self.queue.get_mut(i)
        {
            self.refs.set(&mut e.keep, on);
        }
    }

    /// Whether immediate `seq` is waiting and keeps the loop alive.
    pub(crate) fn has_ref(&mut self, seq: u64) -> bool {
        matches!(self.position(seq), Some(Some(e)) if e.keep.is_on())
    }

    #[inline]
    fn forget(&mut self, e: Entry) -> Callback {
        self.live -= 1;
        self.refs.remove(e.keep);
        e.cb
    }

    /// Immediate `seq`'s index in the queue, if it has not been popped.
    fn index(&self, seq: u64) -> Option<usize> {
        usize::try_from(seq.checked_sub(self.base)?).ok()
    }

    /// Immediate `seq`'s place in the queue (`None` inside once it was
    /// cleared), if it has not been popped.
    fn position(&mut self, seq: u64) -> Option<&mut Option<Entry>> {
        let i = self.index(seq)?;
        self.queue.get_mut(i)
    }

    /// Waiting immediates as (flow id, scheduling site), in run order.
    pub(crate) fn sites(&self) -> impl Iterator<Item = (u64, Site)> + '_ {
        (self.base..)
            .zip(self.queue.iter())
            .filter_map(|(seq, e)| Some((trace::immediate_flow(seq), e.as_ref()?.cb.site)))
    }

    /// Waiting immediates as (flow id, site, referenced), in run order:
    /// what `Core::walk` lists.
    pub(crate) fn handles(&self) -> impl Iterator<Item = (u64, Site, bool)> + '_ {
        (self.base..).zip(self.queue.iter()).filter_map(|(seq, e)| {
            let e = e.as_ref()?;
            Some((trace::immediate_flow(seq), e.cb.site, e.keep.is_on()))
        })
    }

    /// Whether the immediate behind this flow id is still waiting.
    pub(crate) fn has_flow(&self, id: u64) -> bool {
        self.sites().any(|(i, _)| i == id)
    }

    /// Empties the queue (loop teardown) and hands back the callbacks, to
    /// be dropped outside the queue's borrow.
    pub(crate) fn take_all(&mut self) -> Vec<Callback> {
        self.base += self.queue.len() as u64;
        let entries: Vec<Entry> = self.queue.drain(..).flatten().collect();
        entries.into_iter().map(|e| self.forget(e)).collect()
    }
}

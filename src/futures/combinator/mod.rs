//! Promise combinators: [`join_all`] (`Promise.all`), [`try_join_all`]
//! (`Promise.all` with rejections), [`all_settled`] (`Promise.allSettled`),
//! [`race`] (`Promise.race`), [`any`] (`Promise.any`), and the macros
//! [`join!`](crate::join!) and [`try_join!`](crate::try_join!) for a fixed
//! set of futures of different types.
//!
//! How they run (first poll of every input, O(1) wake-ups through one waker
//! per input and a shared ready list, cancellation, keep-alive) is described
//! on [`join_all`], under "How the combinators run".
//!
//! Implementation: each input (a "child") gets a `ChildWaker`, an `Arc`
//! holding its index and the combinator's `Wakeup`. Waking it lists the index
//! in `Wakeup`'s ready list (once, thanks to a per-child flag) and, if the
//! list was empty, wakes the combinator's task through a `Waiter` (the
//! executor's fast path: no clone of the task's waker). The combinator swaps
//! the list out at each poll and polls only those children. A child woken
//! while the combinator itself is polling is only listed; the combinator
//! then wakes itself through its own `Context` if it stays pending, which the
//! executor handles as a self-wake.
//!
//! Files: this one holds that machinery (`Wakeup`, the children's wakers,
//! and `Group`, the children of a combinator over an iterator); `join.rs`
//! has [`join_all`], [`try_join_all`] and [`all_settled`]; `race.rs` has
//! [`race`], [`any`] and [`AggregateError`]; `macros.rs` has
//! [`join!`](crate::join!), [`try_join!`](crate::try_join!) and their
//! `__private` support.

mod join;
mod macros;
mod race;

pub use join::{AllSettled, JoinAll, TryJoinAll, all_settled, join_all, try_join_all};
#[doc(hidden)]
pub use macros::__private;
pub use race::{AggregateError, Any, Race, any, race};

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use crate::rt::context::try_with_core;
use crate::rt::executor::Waiter;
use crate::rt::remote::Remote;

// ---------------------------------------------------------------------------
// Per-child wakers and the shared ready list.

/// What the children's wakers share with their combinator: which children
/// were woken since the combinator last looked, and whom to wake.
struct Wakeup {
    /// Per child: already in `ready` (so a child woken twice is listed once).
    queued: Box<[AtomicBool]>,
    state: Mutex<WakeState>,
}

struct WakeState {
    /// Children woken since the last poll, in wake order.
    ready: Vec<usize>,
    /// The combinator's task. `None` before its first poll and after it
    /// completes.
    parent: Option<Waiter>,
    /// The loop's cross-thread queue, for a child woken on another thread
    /// while `parent` is a task key (which only the loop's thread can wake).
    remote: Option<Remote>,
    /// The combinator is polling its children: a child woken now is only
    /// listed, and the combinator wakes itself through its own `Context` if
    /// it stays pending (see `Wakeup::end`).
    polling: bool,
}

/// One child's waker: records `index` as ready and wakes the combinator.
struct ChildWaker {
    wakeup: Arc<Wakeup>,
    index: usize,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wakeup.wake_child(self.index);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakeup.wake_child(self.index);
    }
}

/// How to wake the parent, read out of the lock.
enum WakeParent {
    Local(Waiter),
    Remote(Waiter, Remote),
    Waker(Waker),
}

impl Wakeup {
    fn new(children: usize) -> Arc<Wakeup> {
        Arc::new(Wakeup {
            queued: (0..children).map(|_| AtomicBool::new(false)).collect(),
            state: Mutex::new(WakeState {
                ready: Vec::new(),
                parent: None,
                remote: None,
                polling: false,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, WakeState> {
        // Nothing panics while the lock is held; recover anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn child_waker(self: &Arc<Self>, index: usize) -> Waker {
        Waker::from(Arc::new(ChildWaker {
            wakeup: self.clone(),
            index,
        }))
    }

    fn wake_child(&self, index: usize) {
        if self.queued[index].swap(true, Ordering::AcqRel) {
            return; // listed already, and the parent was woken then
        }
        let wake = {
            let mut s = self.lock();
            let first = s.ready.is_empty();
            s.ready.push(index);
            if !first || s.polling {
                // A wake is already on its way for this batch, or the
                // combinator is running and will see the list when it ends.
                return;
            }
            match &s.parent {
                None => return,
                Some(Waiter::Waker(w)) => WakeParent::Waker(w.clone()),
                Some(Waiter::Task(loop_id, key)) => {
                    let (loop_id, key) = (*loop_id, *key);
                    let here = try_with_core(|core| core.id() == loop_id).unwrap_or(false);
                    match (&s.remote, here) {
                        (_, true) => WakeParent::Local(Waiter::Task(loop_id, key)),
                        (Some(remote), false) => {
                            WakeParent::Remote(Waiter::Task(loop_id, key), remote.clone())
                        }
                        (None, false) => return,
                    }
                }
            }
        };
        match wake {
            WakeParent::Local(w) => w.wake(),
            WakeParent::Remote(w, remote) => {
                // The loop is gone if this fails: nothing is left to wake.
                let _ = remote.post_unreferenced(Box::new(move || w.wake()));
            }
            WakeParent::Waker(w) => w.wake(),
        }
    }

    /// Starts a poll of the combinator: records who polls it now and moves
    /// the ready list into `batch` (which must be empty; its buffer is lent
    /// back to the list).
    fn begin(&self, cx: &Context<'_>, batch: &mut Vec<usize>) {
        let mut s = self.lock();
        Waiter::register(&mut s.parent, cx);
        if s.remote.is_none() && matches!(s.parent, Some(Waiter::Task(..))) {
            s.remote = try_with_core(|core| core.remote_ref().clone());
        }
        std::mem::swap(&mut s.ready, batch);
        s.polling = true;
    }

    /// Ends a poll that began with `begin`. If children were woken during
    /// it and the combinator stays pending, it wakes itself through `cx`
    /// (rather than through the stored parent while its own poll runs, so the
    /// executor sees a self-wake and schedules the task only if it stays
    /// pending).
    fn end(&self, cx: &Context<'_>, pending: bool) {
        let woken = {
            let mut s = self.lock();
            s.polling = false;
            !s.ready.is_empty()
        };
        if woken && pending {
            cx.waker().wake_by_ref();
        }
    }

    /// Forgets the parent and the ready list: later wakes of leftover child
    /// wakers do nothing.
    fn clear(&self) {
        let parent = {
            let mut s = self.lock();
            s.ready = Vec::new();
            s.polling = false;
            s.parent.take()
        };
        drop(parent);
    }
}

/// The children of a combinator over an iterator of futures, with the
/// polling policy described on [`join_all`].
struct Group<F> {
    /// `None` once finished (or dropped).
    children: Vec<Option<Pin<Box<F>>>>,
    /// Made at the first poll, one per child.
    wakers: Vec<Waker>,
    wakeup: Arc<Wakeup>,
    /// Buffer swapped with the ready list at each poll.
    batch: Vec<usize>,
    started: bool,
    /// Children not finished yet.
    left: usize,
}

impl<F: Future> Group<F> {
    fn new(futures: impl IntoIterator<Item = F>) -> Group<F> {
        let children: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
        let n = children.len();
        Group {
            children,
            wakers: Vec::new(),
            wakeup: Wakeup::new(n),
            batch: Vec::new(),
            started: false,
            left: n,
        }
    }

    fn len(&self) -> usize {
        self.children.len()
    }

    /// Polls the children that are due and hands each one that finishes to
    /// `on_ready` with its index. The first call polls every child, in input
    /// order, even after `on_ready` has broken (JavaScript starts them all),
    /// and returns the first break; later calls poll the woken children in
    /// wake order and stop at the first break.
    fn poll<B>(
        &mut self,
        cx: &Context<'_>,
        mut on_ready: impl FnMut(usize, F::Output) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        self.wakeup.begin(cx, &mut self.batch);
        let flow = self.poll_due(&mut on_ready);
        self.wakeup.end(cx, flow.is_continue() && self.left > 0);
        flow
    }

    fn poll_due<B>(
        &mut self,
        on_ready: &mut impl FnMut(usize, F::Output) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let mut flow = ControlFlow::Continue(());
        if !self.started {
            self.started = true;
            self.batch.clear(); // no child waker existed yet: nothing in it
            self.wakers.reserve_exact(self.children.len());
            for i in 0..self.children.len() {
                let waker = self.wakeup.child_waker(i);
                let child = self.children[i].as_mut().expect("not started yet");
                let polled = child.as_mut().poll(&mut Context::from_waker(&waker));
                self.wakers.push(waker);
                if let Poll::Ready(out) = polled {
                    self.children[i] = None;
                    self.left -= 1;
                    if flow.is_continue() {
                        flow = on_ready(i, out);
                    }
                }
            }
            return flow;
        }
        let mut batch = std::mem::take(&mut self.batch);
        for &i in &batch {
            // Cleared before the poll, so a wake during it lists the child
            // again. (A swap, not a store: it reads the waking thread's write.)
            self.wakeup.queued[i].swap(false, Ordering::AcqRel);
            let Some(child) = self.children[i].as_mut() else {
                continue; // finished already: a stale wake
            };
            if let Poll::Ready(out) = child
                .as_mut()
                .poll(&mut Context::from_waker(&self.wakers[i]))
            {
                self.children[i] = None;
                self.left -= 1;
                flow = on_ready(i, out);
                if flow.is_break() {
                    break;
                }
            }
        }
        batch.clear();
        self.batch = batch;
        flow
    }

    /// Drops (cancels) every child still running, and the wakers.
    fn finish(&mut self) {
        self.children = Vec::new();
        self.wakers = Vec::new();
        self.wakeup.clear();
    }
}

impl<F> Drop for Group<F> {
    fn drop(&mut self) {
        // The children go first (dropping one may wake another), then the
        // parent, so a child waker that outlives us wakes nothing.
        self.children = Vec::new();
        self.wakeup.clear();
    }
}

impl<F> fmt::Debug for Group<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("len", &self.children.len())
            .field("pending", &self.left)
            .finish()
    }
}

#[cold]
#[track_caller]
fn polled_after_completion(what: &str) -> ! {
    panic!("evloop: {what} polled after it completed")
}

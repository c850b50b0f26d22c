//! The children's wakers and the shared ready list: how a combinator learns
//! which of its inputs were woken, and how their wakes reach its task. Used
//! by `Group` (the combinators over an iterator) and by the macros' `Fixed`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Wake, Waker};

use crate::rt::context::try_with_core;
use crate::rt::executor::Waiter;
use crate::rt::remote::Remote;

/// What the children's wakers share with their combinator: which children
/// were woken since the combinator last looked, and whom to wake.
pub(super) struct Wakeup {
    /// Per child: already in `ready` (so a child woken twice is listed once).
    /// Set by `wake_child`, cleared by `unlist`.
    queued: Box<[AtomicBool]>,
    state: Mutex<WakeState>,
}

/// The part of `Wakeup` behind its lock.
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
    /// The parent is a task of the loop on this thread: woken by its key.
    Local(Waiter),
    /// The parent is a task key and the child was woken on another thread:
    /// the wake goes through the loop's cross-thread queue.
    Remote(Waiter, Remote),
    /// The parent was polled with some other waker: a clone of it.
    Waker(Waker),
}

impl Wakeup {
    /// The shared state of a combinator with `children` children, none
    /// woken yet and no parent.
    pub(super) fn new(children: usize) -> Arc<Wakeup> {
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

    /// The state, even after a panic poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, WakeState> {
        // Nothing panics while the lock is held; recover anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The waker for child `index`: waking it lists `index` and wakes the
    /// parent.
    pub(super) fn child_waker(self: &Arc<Self>, index: usize) -> Waker {
        Waker::from(Arc::new(ChildWaker {
            wakeup: self.clone(),
            index,
        }))
    }

    /// Lists child `index` as ready (once until `unlist`) and, if it starts a
    /// batch, wakes the parent (see `WakeState::polling` for a wake during
    /// the combinator's own poll).
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
    pub(super) fn begin(&self, cx: &Context<'_>, batch: &mut Vec<usize>) {
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
    pub(super) fn end(&self, cx: &Context<'_>, pending: bool) {
        let woken = {
            let mut s = self.lock();
            s.polling = false;
            !s.ready.is_empty()
        };
        if woken && pending {
            cx.waker().wake_by_ref();
        }
    }

    /// Clears child `index`'s listed flag before the combinator polls it, so
    /// that a wake during that poll lists it again.
    #[inline]
    pub(super) fn unlist(&self, index: usize) {
        // A swap, not a store: it reads the waking thread's write.
        self.queued[index].swap(false, Ordering::AcqRel);
    }

    /// Forgets the parent and the ready list: later wakes of leftover child
    /// wakers do nothing.
    pub(super) fn clear(&self) {
        let parent = {
            let mut s = self.lock();
            s.ready = Vec::new();
            s.polling = false;
            s.parent.take()
        };
        drop(parent);
    }
}

//! The waker protocol: how a wake reaches a task.
//!
//! - A task's poll is lent a waker (`POLL_VTABLE`) that points at a
//!   `PollCtx` on `poll_cell`'s stack: waking it by reference sets a flag
//!   that `poll_cell` reads when the poll returns.
//! - Cloning that waker makes, once per task, an `Arc<TaskWaker>` that may
//!   go anywhere: woken on the loop's thread it schedules the task, woken on
//!   another thread it posts the wake through the loop's cross-thread queue.
//!   (Its `Wake` impl is here; the struct, data only, is in `state`.)
//! - A leaf future recognises its own task's poll waker (`own_task`, through
//!   `POLLING_NOW`) and keeps the task's key (`Waiter`) instead of a clone.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, RawWaker, RawWakerVTable, Wake, Waker};

use super::state::{TaskKey, TaskWaker};
use crate::rt::context::try_with_core;
use crate::rt::remote::Remote;

/// On the loop's own thread, schedules the task; elsewhere (or on a thread
/// running another loop), posts the wake to the task's loop. (The struct is
/// in `state`, beside `HAS_ARC`, so that the table can hold it.)
impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let key = TaskKey::unpack(self.key.load(Ordering::Relaxed));
        if !wake_local(self.loop_id, key) {
            let loop_id = self.loop_id;
            // The loop is gone if this fails: nothing is left to wake.
            let _ = self.remote.post_unreferenced(Box::new(move || {
                wake_local(loop_id, key);
            }));
        }
    }
}

/// Schedules `key` if the current thread runs loop `loop_id`.
#[inline]
fn wake_local(loop_id: u32, key: TaskKey) -> bool {
    try_with_core(|core| {
        if core.id != loop_id {
            return false;
        }
        core.executor.schedule(core, key);
        true
    })
    .unwrap_or(false)
}

/// The task being polled on this thread and the data pointer of the waker
/// its poll was given, so leaf futures can recognise their own task's waker
/// without reaching the loop. (One loop runs on a thread at a time.)
#[derive(Clone, Copy)]
pub(super) struct Current {
    /// (Non-null, so `Option<Current>` is three words.)
    pub(super) data: NonNull<()>,
    pub(super) key: TaskKey,
    pub(super) loop_id: u32,
}

thread_local! {
    pub(super) static POLLING_NOW: Cell<Option<Current>> = const { Cell::new(None) };
}

/// If `waker` is the waker of the task being polled, that task's loop and
/// key.
#[inline]
pub(super) fn own_task(waker: &Waker) -> Option<(u32, TaskKey)> {
    if !ptr::eq(waker.vtable(), &POLL_VTABLE) {
        return None;
    }
    match POLLING_NOW.with(Cell::get) {
        Some(c) if ptr::eq(c.data.as_ptr(), waker.data()) => Some((c.loop_id, c.key)),
        _ => None,
    }
}

/// Who to wake when a leaf future (timer, promise, channel) completes: the
/// task's key when the waker is the executor's own for the task being polled
/// (no clone, no atomics), any other waker otherwise.
pub(crate) enum Waiter {
    Task(u32, TaskKey),
    Waker(Waker),
}

impl Waiter {
    #[inline]
    pub(crate) fn new(cx: &Context<'_>) -> Waiter {
        match own_task(cx.waker()) {
            Some((loop_id, key)) => Waiter::Task(loop_id, key),
            None => Waiter::Waker(cx.waker().clone()),
        }
    }

    /// Stores a waiter for `cx` in `slot`, keeping the old one if it would
    /// wake the same task.
    #[inline]
    pub(crate) fn register(slot: &mut Option<Waiter>, cx: &Context<'_>) {
        match (own_task(cx.waker()), &*slot) {
            (Some((_, key)), Some(Waiter::Task(_, old))) if *old == key => {}
            (Some((loop_id, key)), _) => *slot = Some(Waiter::Task(loop_id, key)),
            (None, Some(Waiter::Waker(w))) if w.will_wake(cx.waker()) => {}
            (None, _) => *slot = Some(Waiter::Waker(cx.waker().clone())),
        }
    }

    /// Whether this waiter wakes the task that `cx` polls (the same task
    /// key, or a waker that `will_wake` the same).
    #[inline]
    pub(crate) fn wakes(&self, cx: &Context<'_>) -> bool {
        match (self, own_task(cx.waker())) {
            (Waiter::Task(_, old), Some((_, key))) => *old == key,
            (Waiter::Waker(w), None) => w.will_wake(cx.waker()),
            _ => false,
        }
    }

    #[inline]
    pub(crate) fn wake(self) {
        match self {
            Waiter::Task(loop_id, key) => {
                wake_local(loop_id, key);
            }
            Waiter::Waker(w) => w.wake(),
        }
    }
}

/// What the waker handed to a task's poll points at. It lives on the
/// stack of `poll_cell` for exactly that poll: a `Context` cannot outlive
/// the poll, so neither can the borrowed `Waker` that points here. Cloning
/// that waker makes (once per task) the `Arc<TaskWaker>` that may go
/// anywhere; waking it by reference schedules the task directly. Every field
/// is `Sync`, so a `&Waker` shared with a scoped thread during the poll is
/// still sound.
pub(super) struct PollCtx<'a> {
    pub(super) key: TaskKey,
    pub(super) loop_id: u32,
    pub(super) remote: &'a Remote,
    pub(super) arc: LazyArc,
    /// Woken while being polled (typically `yield_now`): `poll_cell`
    /// schedules it when the poll returns, without another table lookup.
    pub(super) woken: AtomicBool,
}

/// The task's `Arc` waker, made by the first clone of a poll waker (or
/// given before the poll if the task already has one). `filled` says
/// whether to look in the `OnceLock` at all: most polls never clone, and
/// reading an empty `OnceLock` (as its destructor does) was a measurable
/// part of a poll.
pub(super) struct LazyArc {
    lock: ManuallyDrop<OnceLock<Arc<TaskWaker>>>,
    filled: AtomicBool,
}

impl LazyArc {
    #[inline]
    pub(super) fn new(arc: Option<Arc<TaskWaker>>) -> LazyArc {
        LazyArc {
            filled: AtomicBool::new(arc.is_some()),
            lock: ManuallyDrop::new(arc.map(OnceLock::from).unwrap_or_default()),
        }
    }

    fn get_or_init(&self, f: impl FnOnce() -> Arc<TaskWaker>) -> &Arc<TaskWaker> {
        let arc = self.lock.get_or_init(f);
        self.filled.store(true, Ordering::Relaxed);
        arc
    }

    #[inline]
    pub(super) fn take(&mut self) -> Option<Arc<TaskWaker>> {
        if !*self.filled.get_mut() {
            // Empty: owns nothing.
            return None;
        }
        *self.filled.get_mut() = false;
        std::mem::take(&mut *self.lock).into_inner()
    }
}

impl Drop for LazyArc {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl PollCtx<'_> {
    fn arc(&self) -> &Arc<TaskWaker> {
        self.arc.get_or_init(|| {
            Arc::new(TaskWaker {
                loop_id: self.loop_id,
                key: AtomicU64::new(self.key.pack()),
                remote: self.remote.clone(),
            })
        })
    }
}

pub(super) static POLL_VTABLE: RawWakerVTable =
    RawWakerVTable::new(poll_clone, poll_wake, poll_wake, poll_drop);

/// # Safety
/// `data` must point to a `PollCtx` that is alive (see `PollCtx`).
unsafe fn poll_ctx<'a>(data: *const ()) -> &'a PollCtx<'a> {
    // SAFETY: the caller's contract; only `poll_cell` makes such wakers, and
    // only for the duration of the poll that borrows them.
    unsafe { &*data.cast::<PollCtx<'a>>() }
}

unsafe fn poll_clone(data: *const ()) -> RawWaker {
    // SAFETY: a borrowed poll waker is only reachable during its poll.
    let ctx = unsafe { poll_ctx(data) };
    let waker = ManuallyDrop::new(Waker::from(ctx.arc().clone()));
    // The returned raw waker owns the `Arc` reference taken above.
    RawWaker::new(waker.data(), waker.vtable())
}

unsafe fn poll_wake(data: *const ()) {
    // SAFETY: as for `poll_clone`.
    let ctx = unsafe { poll_ctx(data) };
    // The poll is still running (the waker cannot outlive it), so the task
    // is scheduled when it returns, whichever thread this is.
    ctx.woken.store(true, Ordering::Relaxed);
}

unsafe fn poll_drop(_: *const ()) {}

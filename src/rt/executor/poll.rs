//! The poll path: the microtask key path (a wake queues the task's key,
//! `Executor::schedule`; the queued poll finds its slot again,
//! `Executor::take_for_poll`), a task's microtask (`poll_task`), its poll in
//! place (`poll_cell`) and what follows (`finish`, with
//! `report_unobserved`, or `PollGuard` if the poll panics). The
//! `Executor` methods here are the ones that use `Core` (the microtask
//! queue); its data-only methods are in `table`.

use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, RawWaker, Waker};

use super::arena::Slot;
use super::state::{DETACHED, DONE, FALLIBLE, HAS_ARC, Join, SCHEDULED, TaskKey, WAITED};
use super::table::Executor;
use super::waker::{Current, LazyArc, POLL_VTABLE, POLLING_NOW, PollCtx};
use crate::rt::callback::Callback;
use crate::rt::core::Core;
use crate::rt::panic::drop_while_unwinding;
use crate::rt::trace::replay::{From, Queue};

impl Executor {
    /// Queues a poll of `key` in the microtask queue, unless one is queued.
    pub(crate) fn schedule(&self, core: &Core, key: TaskKey) {
        let Some(slot) = self.slot(key) else {
            return;
        };
        let flags = slot.flags.get();
        if flags & (SCHEDULED | DONE) != 0 {
            return;
        }
        slot.flags.set(flags | SCHEDULED);
        self.push_poll(core, key);
    }

    /// Queues the microtask that polls `key` (already marked `SCHEDULED`).
    #[inline]
    fn push_poll(&self, core: &Core, key: TaskKey) {
        core.record(|r, ms| {
            let site = self.site_of(key.pack());
            let task = key.index;
            r.push(ms, Queue::Micro, None, site, &format!(r#","task":{task}"#));
        });
        let mut queue = core.microtasks.borrow_mut();
        queue.push_poll(key.pack());
        // Remember it if it is the only microtask (see `poll_task`).
        self.sole.set(queue.is_single().then_some(key));
    }

    /// The slot of task `key` for the poll its microtask asked for, with
    /// whether it has an `Arc` waker; `None` if there is nothing to poll (it
    /// finished, or is gone, since the poll was queued, or it is being
    /// polled further up the stack).
    #[inline(always)]
    fn take_for_poll(&self, key: TaskKey) -> Option<(&Slot, bool)> {
        let slot = self.slot(key)?;
        let flags = slot.flags.get() & !SCHEDULED;
        slot.flags.set(flags);
        if flags & DONE != 0 || slot.is_busy() {
            return None;
        }
        Some((slot, flags & HAS_ARC != 0))
    }

    fn wake_join(&self, core: &Core, join: Join) {
        match join {
            Join::Task(key) => self.schedule(core, key),
            Join::Waker(w) => w.wake(),
        }
    }
}

/// Polls one task: the body of its microtask.
///
/// Then, while the only microtask queued is the poll of another task, that
/// poll runs here rather than after a return to the drain. The drain would
/// pop exactly that microtask next, with nothing in between: it runs
/// microtasks until the queue is empty before it looks at next ticks again,
/// and the queue holds nothing else. A panic in such a poll is handed back
/// to the drain as a microtask at the front of the queue that resumes it, so
/// the loop's panic policy sees it with that task's spawn site, at the same
/// point. (Skipped when the loop is observed, so a trace still shows one
/// callback per poll.) In a ping-pong between two tasks this saves the drain's
/// pop, the callback's call and the loop lookup on every hop.
pub(crate) fn poll_task(core: &Core, key: u64) {
    let key = TaskKey::unpack(key);
    let ex = &core.executor;
    // The microtask being run was the one `sole` may name.
    ex.sole.set(None);
    if let Some((slot, has_arc)) = ex.take_for_poll(key) {
        poll_cell(core, key, slot, has_arc, true);
    }
    if core.observer.is_none() {
        run_sole_polls(core);
    }
}

/// See [`poll_task`].
fn run_sole_polls(core: &Core) {
    let ex = &core.executor;
    while let Some(key) = ex.sole.get() {
        {
            let mut queue = core.microtasks.borrow_mut();
            if !queue.is_single() {
                return;
            }
            // `sole` names it: the queue holds that poll and nothing else.
            let popped = queue.pop_sole_poll();
            debug_assert_eq!(popped, Some(key.pack()));
        }
        ex.sole.set(None);
        let Some((slot, has_arc)) = ex.take_for_poll(key) else {
            continue;
        };
        let site = slot.site.get();
        let polled = catch_unwind(AssertUnwindSafe(|| {
            poll_cell(core, key, slot, has_arc, true);
        }));
        if let Err(payload) = polled {
            core.microtasks.borrow_mut().push_front(Callback {
                f: crate::rt::callback::SmallFn::once(move || resume_unwind(payload)),
                site,
            });
            return;
        }
    }
}

/// Polls task `key`'s future in place, in its slot.
///
/// `queued`: this poll is the task's microtask (not `spawn`'s first poll).
/// Then a task that wakes itself (`yield_now`, `await` of a settled
/// promise) while the microtask queue is otherwise empty is polled again at
/// once: queueing its poll and returning to the drain would pop that same
/// poll next, with nothing in between, and a panic in the second poll would
/// reach the loop's policy with the same site. Skipped when the loop is
/// observed, so a trace still shows one callback per poll.
#[inline(always)]
fn poll_cell(core: &Core, key: TaskKey, slot: &Slot, has_arc: bool, queued: bool) {
    let ex = &core.executor;
    let mut ctx = PollCtx {
        key,
        loop_id: core.id,
        remote: core.remote_ref(),
        arc: LazyArc::new(if has_arc { ex.arc(key.index) } else { None }),
        woken: AtomicBool::new(false),
    };
    let data = NonNull::from(&ctx).cast::<()>();
    // SAFETY: the vtable's functions uphold `RawWaker`'s contract: the
    // data pointer stays valid while any `Waker` made from it exists
    // (it is only lent by reference for this poll; clones are `Arc`
    // wakers), and every function is thread-safe.
    let waker =
        ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data.as_ptr(), &POLL_VTABLE)) });
    let outer = POLLING_NOW.replace(Some(Current {
        data,
        key,
        loop_id: core.id,
    }));
    let again = queued && core.observer.is_none();
    // If the poll panics, the guard marks the task finished so nothing
    // waits on it forever; the panic goes on to the loop's policy.
    let guard = PollGuard { core, key };
    let mut cx = Context::from_waker(&waker);
    let result = loop {
        // (Always `Some`: the caller found the slot live and not busy.)
        let result = slot.poll(&mut cx).unwrap_or(Poll::Pending);
        if again
            && result.is_pending()
            && ctx.woken.load(Ordering::Relaxed)
            && core.microtasks.borrow().is_empty()
        {
            ctx.woken.store(false, Ordering::Relaxed);
            continue;
        }
        break result;
    };
    std::mem::forget(guard);
    POLLING_NOW.set(outer);
    let arc = ctx.arc.take();
    // The slot still holds this task: nothing frees a slot whose cell is in
    // use (an abort or a dropped handle only marks it `DETACHED`).
    let mut flags = slot.flags.get();
    if let Some(arc) = arc
        && !has_arc
    {
        flags |= HAS_ARC;
        ex.arcs.borrow_mut().insert(key.index, arc);
    }
    if result.is_pending() {
        if ctx.woken.into_inner() && flags & SCHEDULED == 0 {
            slot.flags.set(flags | SCHEDULED);
            ex.push_poll(core, key);
        } else {
            slot.flags.set(flags);
        }
        return;
    }
    slot.flags.set(flags);
    finish(core, key, slot);
}

/// A task's future returned `Ready`: marks it done, frees a detached
/// task's slot and wakes whoever awaits its handle.
fn finish(core: &Core, key: TaskKey, slot: &Slot) {
    let ex = &core.executor;
    let flags = slot.flags.get();
    slot.flags.set((flags | DONE) & !HAS_ARC);
    ex.pending.set(ex.pending.get() - 1);
    let arc = if flags & HAS_ARC != 0 {
        ex.forget_arc(key.index)
    } else {
        None
    };
    let join = ex.take_join(key.index, slot);
    drop(arc);
    // (One test for the usual awaited, infallible task.)
    if flags & (FALLIBLE | DETACHED) != 0 {
        // Awaited once (`WAITED`) is handled for good, as a promise with a
        // reaction attached: a `race` loser that fails after its handle was
        // dropped is no rejection, as in `Promise.race`.
        if flags & (FALLIBLE | WAITED) == FALLIBLE {
            report_unobserved(core, key, slot);
        }
        if flags & DETACHED != 0 {
            ex.vacate(key.index);
        }
    }
    if let Some(join) = join {
        ex.wake_join(core, join);
    }
}

/// A `spawn_fallible` task finished with nothing awaiting it: an `Err`
/// output is a rejection for the check after the drain (Node's
/// `unhandledRejection` hook, when a promise rejects with no handler).
/// Here, not in `task`, because `finish` reports it and `task` calls into
/// this module (`first_poll`), not the other way.
#[cold]
#[inline(never)]
fn report_unobserved(core: &Core, key: TaskKey, slot: &Slot) {
    if let Some(error) = slot.unobserved_error() {
        core.reject(key.pack(), error, slot.site.get());
    }
}

/// `spawn`'s first poll (out of line: `poll_cell` is inlined into the
/// microtask's `poll_task`, the hot path, not into every `spawn`).
#[inline(never)]
pub(super) fn first_poll(core: &Core, key: TaskKey, slot: &Slot) {
    if let Some(o) = &core.observer {
        // Observed: the poll is a call nested in the running callback, as
        // calling an `async function` runs it to its first `await`.
        o.from(From::Call(key.pack()));
        core.observe_begin(o, slot.site.get());
        let end = ObserveEnd(core);
        poll_cell(core, key, slot, false, false);
        drop(end);
        return;
    }
    poll_cell(core, key, slot, false, false);
}

/// Ends an observed first poll, on return or unwind.
struct ObserveEnd<'a>(&'a Core);

impl Drop for ObserveEnd<'_> {
    fn drop(&mut self) {
        if let Some(o) = &self.0.observer {
            self.0.observe_end(o, std::thread::panicking());
        }
    }
}

struct PollGuard<'a> {
    core: &'a Core,
    key: TaskKey,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        // Only reached while unwinding from a panicking poll. (Whatever task
        // was being polled around this one is no longer recognised by its
        // waker: its leaf futures then clone it, which is merely slower.)
        POLLING_NOW.set(None);
        let ex = &self.core.executor;
        if let Some(slot) = ex.slot(self.key) {
            ex.panicked.set(Some(slot.site.get()));
            slot.flags.set(slot.flags.get() | DONE);
            ex.pending.set(ex.pending.get() - 1);
            let join = ex.take_join(self.key.index, slot);
            // (The poll has unwound: the cell is no longer in use. The
            // future's destructor runs during the unwind: see
            // `drop_while_unwinding`.)
            let index = self.key.index;
            let site = Some(slot.site.get());
            drop_while_unwinding("the panicked task's future", site, || ex.vacate(index));
            // Whoever awaits it learns it panicked (see `Task`).
            if let Some(join) = join {
                ex.wake_join(self.core, join);
            }
        }
    }
}

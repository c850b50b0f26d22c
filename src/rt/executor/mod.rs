//! The future executor: tasks on the loop, polled in the microtask
//! checkpoint so that `await` orders like a resolved promise.
//!
//! A task is one 56-byte slot in the task table (`arena`), which holds its
//! cell (its future, then its output) in place when it is small and a box of
//! it otherwise; the future is polled where it lies. Waking a task queues one
//! microtask that polls it (as an 8-byte key in the microtask queue, see
//! `queue::Microtasks`); a task woken twice before it runs is polled once. The executor's own leaf futures
//! (timers, promises, channels) recognise their task's waker and store the
//! task's key instead of cloning the waker, and so does a `Task` awaited by
//! another task, so the common wake is a queue push with no atomics and no
//! allocation; any other waker (from another executor, or woken from another
//! thread) goes through an `Arc` waker made once per task, and a wake from
//! another thread reaches the loop through the cross-thread path.
//!
//! Two shortcuts skip a return to the drain when nothing could tell the
//! difference (see `poll_task` and `poll_cell`): a task that wakes itself
//! while no other microtask is queued is polled again at once, and a task
//! poll that is the only microtask queued runs right after the poll that
//! queued it.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Wake, Waker};

mod arena;

use arena::{Arena, Slot};

use crate::rt::event_loop::{Callback, Core, Site, try_with_core, with_core};
use crate::rt::remote::Remote;

/// A task's name: slab index plus generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskKey {
    index: u32,
    generation: u32,
}

impl TaskKey {
    fn pack(self) -> u64 {
        (self.index as u64) << 32 | self.generation as u64
    }

    fn unpack(v: u64) -> TaskKey {
        TaskKey {
            index: (v >> 32) as u32,
            generation: v as u32,
        }
    }
}

/// The `Waker` behind every task. Thread-safe (it may be sent anywhere):
/// on the loop's own thread it schedules the task directly; elsewhere it
/// posts the wake through the loop's cross-thread queue.
struct TaskWaker {
    loop_id: u32,
    key: AtomicU64,
    remote: Remote,
}

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

/// A task's future and, once it is done, its output, behind one `dyn`
/// pointer in the task's slot.
trait Runnable {
    /// Polls the future; on completion stores the output and drops the
    /// future.
    fn poll_run(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
    /// Moves a finished task's output into `out`, an `&mut Option<T>` of
    /// the task's output type (left `None` if the type differs).
    fn take_output(self: Pin<&mut Self>, out: &mut dyn Any);
    /// For [`spawn_fallible`] tasks: the `Debug` text of an `Err` output,
    /// which nobody will ever see once this is asked.
    fn unobserved_error(self: Pin<&mut Self>) -> Option<String>;
}

pin_project_lite::pin_project! {
    /// The future, then its output.
    #[project = StageProj]
    #[project_replace = StageReplace]
    enum Stage<F: Future> {
        Running { #[pin] future: F },
        Done { output: F::Output },
        Taken,
    }
}

pin_project_lite::pin_project! {
    /// A task's heap cell. `P` says how to look for an unobserved error
    /// (a type rather than a stored function, so it costs no space).
    struct TaskCell<F: Future, P> {
        #[pin]
        stage: Stage<F>,
        probe: PhantomData<P>,
    }
}

/// How a finished task's output is checked for an error nobody saw.
trait Probe<O> {
    fn error(output: &O) -> Option<String>;
}

/// [`spawn`]: no check.
struct NoProbe;

impl<O> Probe<O> for NoProbe {
    fn error(_: &O) -> Option<String> {
        None
    }
}

/// [`spawn_fallible`]: an `Err` output is an unhandled rejection.
struct ErrProbe;

impl<T, E: fmt::Debug> Probe<Result<T, E>> for ErrProbe {
    fn error(output: &Result<T, E>) -> Option<String> {
        output.as_ref().err().map(|e| format!("{e:?}"))
    }
}

impl<F, P> Runnable for TaskCell<F, P>
where
    F: Future,
    F::Output: 'static,
    P: Probe<F::Output>,
{
    fn poll_run(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut stage = self.project().stage;
        let output = match stage.as_mut().project() {
            StageProj::Running { future } => match future.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return Poll::Pending,
            },
            _ => return Poll::Ready(()),
        };
        // Drops the future in place, then keeps the output.
        stage.set(Stage::Done { output });
        Poll::Ready(())
    }

    fn take_output(self: Pin<&mut Self>, out: &mut dyn Any) {
        let Some(out) = out.downcast_mut::<Option<F::Output>>() else {
            return;
        };
        let mut stage = self.project().stage;
        if let StageProj::Done { .. } = stage.as_mut().project()
            && let StageReplace::Done { output } = stage.project_replace(Stage::Taken)
        {
            *out = Some(output);
        }
    }

    fn unobserved_error(self: Pin<&mut Self>) -> Option<String> {
        match self.project().stage.project() {
            StageProj::Done { output } => P::error(output),
            _ => None,
        }
    }
}

/// Who awaits a task's [`Task`] handle: a task of this loop, by key (no
/// waker clone; kept in the slot), or any other waker (kept in
/// `Executor::join_wakers`: few tasks are awaited through a foreign waker,
/// and a `Waker` in the slot would make every slot 8 bytes larger).
enum Join {
    Task(TaskKey),
    Waker(Waker),
}

/// The value of `Slot::join` when it names no task.
const NO_JOIN: TaskKey = TaskKey {
    index: 0,
    generation: 0,
};

// `Slot::flags`.
/// A poll of the task is queued in the microtask queue.
const SCHEDULED: u8 = 1;
/// The future returned `Ready`: the cell holds the output.
const DONE: u8 = 2;
/// The `Task` handle was dropped: free the slot when done.
const DETACHED: u8 = 4;
/// The handle has been polled once (the "one tick" for a finished task is
/// spent).
const WAITED: u8 = 8;
/// Someone awaits the handle: the task in `join`, or (with `JOIN_WAKER`)
/// the waker in `Executor::join_wakers`.
const HAS_JOIN: u8 = 16;
/// The task's `Arc` waker exists, in `Executor::arcs`.
const HAS_ARC: u8 = 32;
/// See `HAS_JOIN`.
const JOIN_WAKER: u8 = 64;

/// Called when a finished task's output is about to be dropped unobserved.
fn report_unobserved(slot: &Slot) {
    if let Some(error) = slot.unobserved_error() {
        let site = slot.site.get();
        log::error!(
            target: "evloop",
            "unhandled error: the task spawned at {}:{} failed and nothing awaits it: {error}",
            site.file(),
            site.line()
        );
    }
}

/// `Executor::arcs`: slot indices to `Arc` wakers.
type Arcs = HashMap<u32, Arc<TaskWaker>, BuildHasherDefault<IndexHasher>>;

/// `Executor::join_wakers`: slot indices to the wakers awaiting them.
type JoinWakers = HashMap<u32, Waker, BuildHasherDefault<IndexHasher>>;

/// Hashes a slot index with one multiplication: the keys are small distinct
/// integers, and this is only hashed on the rare path of a cloned waker.
#[derive(Default)]
struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// All tasks of one loop.
pub(crate) struct Executor {
    /// The slots. No borrow of the table is ever held: every slot is reached
    /// through a shared reference and changed through its `Cell`s, so a
    /// poll, a wake or a spawn may run inside any of them.
    tasks: Arena,
    /// The `Arc` wakers of pending tasks whose poll waker was cloned, by
    /// slot index (`HAS_ARC`). Few tasks have one, so `any_wakeable` scans
    /// these rather than every task.
    arcs: RefCell<Arcs>,
    /// Foreign wakers awaiting tasks (`JOIN_WAKER`), by slot index.
    join_wakers: RefCell<JoinWakers>,
    next_gen: Cell<u32>,
    /// Tasks not yet done: these keep the loop alive while something can
    /// still wake them.
    pending: Cell<usize>,
    /// The task whose poll is the only microtask queued, if it was queued
    /// onto an empty queue and has not run since (see `poll_task`).
    sole: Cell<Option<TaskKey>>,
    /// The spawn site of the task whose poll panicked last: the site the
    /// loop's panic policy reports for a task poll (see `Core::call_poll`).
    panicked: Cell<Option<Site>>,
}

impl Executor {
    pub(crate) fn new() -> Executor {
        Executor {
            tasks: Arena::new(),
            arcs: RefCell::new(Arcs::default()),
            join_wakers: RefCell::new(JoinWakers::default()),
            next_gen: Cell::new(0),
            pending: Cell::new(0),
            sole: Cell::new(None),
            panicked: Cell::new(None),
        }
    }

    /// The spawn site of the task with packed key `key`: the site of its
    /// polls. (A task that is gone gets the executor's own, for the rare
    /// trace of a poll queued before its task finished.)
    pub(crate) fn site_of(&self, key: u64) -> Site {
        self.slot(TaskKey::unpack(key))
            .map_or(Location::caller(), |s| s.site.get())
    }

    /// The spawn site of the task whose poll panicked last (see
    /// [`Executor::site_of`] for a fallback).
    pub(crate) fn panic_site(&self) -> Site {
        self.panicked.take().unwrap_or(Location::caller())
    }

    /// Tasks not yet finished.
    pub(crate) fn pending(&self) -> usize {
        self.pending.get()
    }

    /// Tasks in the table (pending, or finished with an output not taken).
    pub(crate) fn live(&self) -> usize {
        self.tasks.live()
    }

    /// Whether some pending task can still be woken from outside the loop:
    /// its waker has been cloned and is held somewhere (e.g. by a thread).
    /// A pending task whose waker nobody holds can never run again, like a
    /// promise nothing will settle; such tasks do not keep the loop alive.
    /// O(tasks with an `Arc` waker), not O(tasks).
    pub(crate) fn any_wakeable(&self) -> bool {
        self.arcs
            .borrow()
            .values()
            .any(|a| Arc::strong_count(a) > 1)
    }

    /// Task `key`'s slot, if the task is still in the table.
    #[inline(always)]
    fn slot(&self, key: TaskKey) -> Option<&Slot> {
        self.tasks
            .get(key.index)
            .filter(|s| s.generation.get() == key.generation && s.is_live())
    }

    /// The task's `Arc` waker, if it has one.
    fn arc(&self, index: u32) -> Option<Arc<TaskWaker>> {
        self.arcs.borrow().get(&index).cloned()
    }

    /// Forgets the `Arc` waker of a task that is done or gone (`HAS_ARC`
    /// must have been set). Returned to be dropped outside any borrow.
    fn forget_arc(&self, index: u32) -> Option<Arc<TaskWaker>> {
        self.arcs.borrow_mut().remove(&index)
    }

    /// Takes whoever awaits task `index` (in `slot`), if anyone does.
    fn take_join(&self, index: u32, slot: &Slot) -> Option<Join> {
        let flags = slot.flags.get();
        if flags & HAS_JOIN == 0 {
            return None;
        }
        slot.flags.set(flags & !(HAS_JOIN | JOIN_WAKER));
        if flags & JOIN_WAKER == 0 {
            return Some(Join::Task(slot.join.get()));
        }
        self.take_join_waker(index, flags).map(Join::Waker)
    }

    /// Takes the foreign waker awaiting task `index`, if `flags` says there
    /// is one.
    fn take_join_waker(&self, index: u32, flags: u8) -> Option<Waker> {
        if flags & JOIN_WAKER == 0 {
            return None;
        }
        self.join_wakers.borrow_mut().remove(&index)
    }

    /// Records `waker` as awaiting task `index` (unless the one recorded
    /// would wake the same task); returns the one it replaces.
    fn set_join_waker(&self, index: u32, flags: u8, waker: &Waker) -> Option<Waker> {
        if flags & JOIN_WAKER != 0
            && let Some(old) = self.join_wakers.borrow().get(&index)
            && old.will_wake(waker)
        {
            return None;
        }
        // (Cloned outside the map's borrow: a foreign waker's clone is
        // foreign code.)
        let waker = waker.clone();
        self.join_wakers.borrow_mut().insert(index, waker)
    }

    /// Removes task `index` from the table, dropping its future or output
    /// in place (a destructor that touches the loop is fine: no borrow is
    /// held). Not for a task whose cell is in use (being polled).
    fn vacate(&self, index: u32) {
        let Some(slot) = self.tasks.get(index) else {
            return;
        };
        if slot.is_busy() {
            debug_assert!(false, "vacating a task that is being polled");
            return;
        }
        let join = self.take_join(index, slot);
        let flags = slot.flags.replace(0);
        let arc = if flags & HAS_ARC != 0 {
            self.forget_arc(index)
        } else {
            None
        };
        self.tasks.vacate(index);
        drop(join);
        drop(arc);
    }

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

    /// Drops every task (loop teardown), except one being polled further up
    /// the stack, which cannot be dropped under its poll. Returns how many
    /// were dropped.
    pub(crate) fn clear(&self) -> usize {
        let mut n = 0;
        let mut index = 0;
        // (A destructor may spawn: the bounds are read again each time.)
        while index < self.tasks.high_water() && self.tasks.live() > 0 {
            if let Some(slot) = self.tasks.get(index)
                && slot.is_live()
                && !slot.is_busy()
            {
                if slot.flags.get() & DONE == 0 {
                    self.pending.set(self.pending.get() - 1);
                }
                self.vacate(index);
                n += 1;
            }
            index += 1;
        }
        let arcs = std::mem::take(&mut *self.arcs.borrow_mut());
        let wakers = std::mem::take(&mut *self.join_wakers.borrow_mut());
        self.sole.set(None);
        drop(arcs);
        drop(wakers);
        n
    }
}

/// The task being polled on this thread and the data pointer of the waker
/// its poll was given, so leaf futures can recognise their own task's waker
/// without reaching the loop. (One loop runs on a thread at a time.)
#[derive(Clone, Copy)]
struct Current {
    /// (Non-null, so `Option<Current>` is three words.)
    data: NonNull<()>,
    key: TaskKey,
    loop_id: u32,
}

thread_local! {
    static POLLING_NOW: Cell<Option<Current>> = const { Cell::new(None) };
}

/// If `waker` is the waker of the task being polled, that task's loop and
/// key.
#[inline]
fn own_task(waker: &Waker) -> Option<(u32, TaskKey)> {
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
struct PollCtx<'a> {
    key: TaskKey,
    loop_id: u32,
    remote: &'a Remote,
    arc: LazyArc,
    /// Woken while being polled (typically `yield_now`): `poll_cell`
    /// schedules it when the poll returns, without another table lookup.
    woken: AtomicBool,
}

/// The task's `Arc` waker, made by the first clone of a poll waker (or
/// given before the poll if the task already has one). `filled` says
/// whether to look in the `OnceLock` at all: most polls never clone, and
/// reading an empty `OnceLock` (as its destructor does) was a measurable
/// part of a poll.
struct LazyArc {
    lock: ManuallyDrop<OnceLock<Arc<TaskWaker>>>,
    filled: AtomicBool,
}

impl LazyArc {
    #[inline]
    fn new(arc: Option<Arc<TaskWaker>>) -> LazyArc {
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
    fn take(&mut self) -> Option<Arc<TaskWaker>> {
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

static POLL_VTABLE: RawWakerVTable =
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
    if flags & DETACHED != 0 {
        report_unobserved(slot);
        ex.vacate(key.index);
    }
    if let Some(join) = join {
        ex.wake_join(core, join);
    }
}

/// `spawn`'s first poll (out of line: `poll_cell` is inlined into the
/// microtask's `poll_task`, the hot path, not into every `spawn`).
#[inline(never)]
fn first_poll(core: &Core, key: TaskKey, slot: &Slot) {
    poll_cell(core, key, slot, false, false);
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
            // (The poll has unwound: the cell is no longer in use.)
            ex.vacate(self.key.index);
            // Whoever awaits it learns it panicked (see `Task`).
            if let Some(join) = join {
                ex.wake_join(self.core, join);
            }
        }
    }
}

/// Spawns `future` as a task on the current loop and returns its handle.
///
/// # Ordering
/// Like calling a JavaScript `async function`: the future is polled right
/// away, inside `spawn`, and runs synchronously up to its first `.await` that
/// is not ready. From then on the task runs in the **microtask checkpoint**
/// each time it is woken, so an `.await` resumes exactly where the
/// continuation of a resolved promise would run: after the current callback,
/// after the next ticks, in FIFO order with other microtasks.
///
/// A pending task keeps the loop alive as long as something can wake it; a
/// task that waits on something nothing will ever complete (its waker held by
/// no one) does not, like a promise that never settles.
///
/// # Failures
/// - A panic inside the task is an uncaught panic: it follows the loop's
///   policy (see [`EventLoop`](crate::EventLoop)), and awaiting the task's
///   [`Task`] then panics too.
/// - An error nobody looks at (Node's unhandled rejection): forgetting to
///   await a `Task` is a compiler warning (`#[must_use]`); for a task that can
///   fail, [`spawn_fallible`] also logs an `Err` output that nobody can
///   observe any more, with the spawn site. A plain `spawn` cannot look inside
///   an arbitrary output type, so it drops an unobserved output silently.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_inner::<F, NoProbe>(future, Location::caller())
}

/// [`spawn`] for a task that can fail, with Node's "unhandled rejection"
/// check: if the task ends in `Err` and nobody can observe it any more (its
/// [`Task`] was dropped or detached, before or after it finished), the error
/// is logged at `error` level with the place the task was spawned. Awaiting
/// the `Task` handles the error, exactly like a `.catch`.
///
/// # Panics
/// As [`spawn`].
#[track_caller]
pub fn spawn_fallible<F, T, E>(future: F) -> Task<Result<T, E>>
where
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: fmt::Debug + 'static,
{
    spawn_inner::<F, ErrProbe>(future, Location::caller())
}

fn spawn_inner<F, P>(future: F, site: Site) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
    P: Probe<F::Output> + 'static,
{
    let cell = TaskCell::<F, P> {
        stage: Stage::Running { future },
        probe: PhantomData,
    };
    with_core("spawn", |core| {
        let ex = &core.executor;
        let generation = ex.next_gen.get();
        ex.next_gen.set(generation.wrapping_add(1));
        let index = ex.tasks.insert(cell);
        let slot = ex.tasks.get(index).expect("just inserted");
        slot.site.set(site);
        slot.generation.set(generation);
        slot.flags.set(0);
        let key = TaskKey { index, generation };
        ex.pending.set(ex.pending.get() + 1);
        // Polled right away, synchronously, as an async function call.
        first_poll(core, key, slot);
        Task {
            key,
            loop_id: core.id,
            _output: PhantomData,
        }
    })
}

/// Handle to a spawned task: a future that yields the task's output.
///
/// Awaiting it is like awaiting the promise an async function returned: if
/// the task has already finished, the awaiting task still resumes one
/// microtask later (as `await` of a resolved promise does); otherwise it
/// resumes in the microtask that runs right after the task finishes.
///
/// Dropping the handle **detaches** the task: it runs on to completion (as a
/// JavaScript promise nobody awaits does), and its output is dropped. Use
/// [`Task::abort`] to stop it instead. The handle is `#[must_use]`: a spawned
/// task that is neither awaited nor deliberately detached is usually the
/// "forgotten await" bug.
#[must_use = "a Task does nothing to its caller unless awaited; call .detach() to let it run on unobserved"]
pub struct Task<T> {
    key: TaskKey,
    /// The loop the task runs on; 0 (no loop's id) once the output has been
    /// taken, so dropping the handle then has nothing to look up.
    loop_id: u32,
    _output: PhantomData<T>,
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("index", &self.key.index)
            .finish()
    }
}

impl<T> Unpin for Task<T> {}

impl<T: 'static> Future for Task<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let key = self.key;
        assert!(
            self.loop_id != 0,
            "evloop: a Task was polled after it completed"
        );
        let out = with_core("Task::poll", |core| {
            assert_eq!(
                core.id, self.loop_id,
                "evloop: a Task was awaited on another loop"
            );
            let ex = &core.executor;
            let Some(slot) = ex.slot(key) else {
                panic!("evloop: the awaited task panicked or was aborted");
            };
            let flags = slot.flags.get();
            if flags & DONE == 0 {
                let old = match own_task(cx.waker()) {
                    Some((_, awaiter)) => {
                        slot.join.set(awaiter);
                        slot.flags.set((flags | WAITED | HAS_JOIN) & !JOIN_WAKER);
                        ex.take_join_waker(key.index, flags)
                    }
                    None => {
                        slot.flags.set(flags | WAITED | HAS_JOIN | JOIN_WAKER);
                        ex.set_join_waker(key.index, flags, cx.waker())
                    }
                };
                // (Dropped after the table's borrow.)
                drop(old);
                return None;
            }
            slot.flags.set(flags | WAITED);
            if flags & WAITED == 0 {
                // Already settled: resume one microtask later, like `await`
                // of a resolved promise.
                cx.waker().wake_by_ref();
                return None;
            }
            let mut out = None::<T>;
            slot.take_output(&mut out);
            let out = out.expect("a task's output is taken once, with its own type");
            ex.vacate(key.index);
            Some(out)
        });
        match out {
            Some(out) => {
                // Nothing left for the handle's destructor to do.
                self.loop_id = 0;
                Poll::Ready(out)
            }
            None => Poll::Pending,
        }
    }
}

impl<T: 'static> Task<T> {
    /// Takes the output of a finished task without awaiting (no microtask
    /// delay); `None` if it has not finished.
    pub(crate) fn take_output(&mut self) -> Option<T> {
        let out = with_core("Task::take_output", |core| {
            let ex = &core.executor;
            let slot = ex.slot(self.key)?;
            if slot.flags.get() & DONE == 0 {
                return None;
            }
            let mut out = None::<T>;
            slot.take_output(&mut out);
            ex.vacate(self.key.index);
            out
        });
        if out.is_some() {
            self.loop_id = 0;
        }
        out
    }
}

impl<T> Task<T> {
    /// Lets the task run on without a handle (the same as dropping it, but
    /// says so).
    pub fn detach(self) {}

    /// Stops the task: its future is dropped now, wherever it was suspended,
    /// and it never runs again. A no-op if it already finished.
    pub fn abort(self) {
        let key = self.key;
        let loop_id = self.loop_id;
        std::mem::forget(self);
        with_core("Task::abort", |core| {
            let Some(slot) = handle_slot(core, loop_id, key) else {
                return;
            };
            let ex = &core.executor;
            let flags = slot.flags.get();
            if slot.is_busy() {
                // Aborting itself from inside its own poll: finish as detached.
                slot.flags.set(flags | DETACHED);
                return;
            }
            if flags & DONE == 0 {
                ex.pending.set(ex.pending.get() - 1);
            }
            // The future's destructor runs here, and may touch the loop.
            ex.vacate(key.index);
        });
    }

    /// Whether the task has finished (its output may not be taken yet).
    pub fn is_finished(&self) -> bool {
        if self.loop_id == 0 {
            return true;
        }
        with_core("Task::is_finished", |core| {
            core.executor
                .slot(self.key)
                .is_none_or(|s| s.flags.get() & DONE != 0)
        })
    }
}

/// The slot of the task a handle names, if the handle belongs to `core`'s
/// loop and the task is still in its table.
fn handle_slot(core: &Core, loop_id: u32, key: TaskKey) -> Option<&Slot> {
    if core.id != loop_id {
        return None;
    }
    core.executor.slot(key)
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        let key = self.key;
        let loop_id = self.loop_id;
        if loop_id == 0 {
            return;
        }
        try_with_core(|core| {
            let Some(slot) = handle_slot(core, loop_id, key) else {
                return;
            };
            let ex = &core.executor;
            let flags = slot.flags.get();
            if flags & DONE != 0 {
                report_unobserved(slot);
                ex.vacate(key.index);
                return;
            }
            slot.flags.set(flags | DETACHED);
            drop(ex.take_join(key.index, slot));
        });
    }
}

/// Awaits once without waiting for anything: the task re-queues itself at
/// the back of the microtask queue (like `await null`), letting the other
/// microtasks run first.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.yielded, true) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventLoop, channel, deferred, next_tick, queue_microtask, set_immediate};
    use std::rc::Rc;

    #[test]
    fn sizes() {
        // What a million pending tasks cost in the table and in handles.
        assert_eq!(size_of::<Slot>(), 56);
        assert_eq!(size_of::<Task<u64>>(), 12);
    }

    type Log = Rc<RefCell<Vec<String>>>;

    fn say(log: &Log, what: impl Into<String>) {
        log.borrow_mut().push(what.into());
    }

    /// Runs `scenario` on a fresh loop, observed (`trace`: the poll fast
    /// paths are off) or not, and returns what it logged, with the panics
    /// the loop's handler saw (message and spawn line).
    fn run(trace: bool, scenario: fn(&Log)) -> Vec<String> {
        let log: Log = Rc::default();
        let l = log.clone();
        let lp = EventLoop::builder()
            .trace(trace)
            .on_uncaught_panic(move |p| {
                say(
                    &l,
                    format!("panic {:?} at line {}", p.message(), p.site().line()),
                )
            })
            .build()
            .unwrap();
        let l = log.clone();
        lp.run_main(move || scenario(&l));
        log.borrow().clone()
    }

    /// The fast paths (a self-woken task polled again at once, the sole
    /// queued task poll run without a return to the drain) change nothing
    /// observable: the same scenario logs the same lines with them off.
    fn same_with_and_without_fast_paths(scenario: fn(&Log)) -> Vec<String> {
        let fast = run(false, scenario);
        let plain = run(true, scenario);
        assert_eq!(fast, plain, "the fast paths changed the order");
        fast
    }

    #[test]
    fn fast_paths_keep_ticks_microtasks_and_tasks_in_order() {
        let _w = crate::test_watchdog::watchdog();
        let out = same_with_and_without_fast_paths(|log| {
            let l = log.clone();
            spawn(async move {
                for i in 0..3 {
                    let l2 = l.clone();
                    next_tick(move || say(&l2, format!("tick {i}")));
                    say(&l, format!("a {i}"));
                    yield_now().await;
                }
                let (r, d) = deferred();
                r.resolve(5);
                let l2 = l.clone();
                queue_microtask(move || say(&l2, "microtask"));
                say(&l, format!("d {:?}", d.await));
            })
            .detach();
            let l = log.clone();
            spawn(async move {
                say(&l, "b 0");
                yield_now().await;
                say(&l, "b 1");
                let l2 = l.clone();
                let t = spawn(async move {
                    say(&l2, "c");
                    7
                });
                yield_now().await;
                say(&l, format!("b got {}", t.await));
            })
            .detach();
            let l = log.clone();
            set_immediate(move || say(&l, "immediate"));
        });
        // What Node prints for the same script (`await null`, a resolved
        // promise, an async function's promise, queueMicrotask, nextTick).
        assert_eq!(
            out,
            [
                "a 0",
                "b 0",
                "tick 0",
                "a 1",
                "b 1",
                "c",
                "a 2",
                "b got 7",
                "microtask",
                "d Ok(5)",
                "tick 1",
                "tick 2",
                "immediate"
            ]
        );
    }

    #[test]
    fn fast_paths_keep_a_ping_pong_in_order() {
        let _w = crate::test_watchdog::watchdog();
        same_with_and_without_fast_paths(|log| {
            let (ping_tx, mut ping_rx) = channel::<u32>(1);
            let (pong_tx, mut pong_rx) = channel::<u32>(1);
            let l = log.clone();
            spawn(async move {
                while let Some(v) = ping_rx.recv().await {
                    say(&l, format!("echo {v}"));
                    let l2 = l.clone();
                    queue_microtask(move || say(&l2, format!("echo's microtask {v}")));
                    if pong_tx.send(v + 1).await.is_err() {
                        break;
                    }
                }
            })
            .detach();
            let l = log.clone();
            spawn(async move {
                for i in 0..4 {
                    ping_tx.send(i * 10).await.unwrap();
                    let l2 = l.clone();
                    next_tick(move || say(&l2, format!("tick {i}")));
                    if i % 2 == 1 {
                        // Queued behind echo's poll: the drain runs both.
                        let l2 = l.clone();
                        queue_microtask(move || say(&l2, format!("main's microtask {i}")));
                    }
                    say(&l, format!("main got {:?}", pong_rx.recv().await));
                }
            })
            .detach();
        });
    }

    #[test]
    fn a_panic_in_a_chained_or_repeated_poll_keeps_its_site_and_place() {
        let _w = crate::test_watchdog::watchdog();
        let out = same_with_and_without_fast_paths(|log| {
            let (tx, mut rx) = channel::<u32>(1);
            let (tx2, mut rx2) = channel::<u32>(1);
            let l = log.clone();
            say(log, format!("b spawned at line {}", line!() + 1));
            spawn(async move {
                // Polled as the sole queued microtask once `main` waits.
                let v = rx.recv().await;
                say(&l, format!("b got {v:?}"));
                let _keep = tx2;
                panic!("b fails");
            })
            .detach();
            let l = log.clone();
            say(log, format!("main spawned at line {}", line!() + 1));
            spawn(async move {
                // From here on, `main` is polled by its microtask.
                yield_now().await;
                tx.send(1).await.unwrap();
                say(&l, format!("main got {:?}", rx2.recv().await));
                let l2 = l.clone();
                next_tick(move || say(&l2, "tick"));
                yield_now().await;
                // Polled again at once: nothing else is queued.
                panic!("main fails after a yield");
            })
            .detach();
        });
        let line = |who: &str| {
            out.iter()
                .find_map(|s| s.strip_prefix(&format!("{who} spawned at line ")))
                .unwrap()
                .to_string()
        };
        let (b, main) = (line("b"), line("main"));
        assert_eq!(
            out[2..],
            [
                "b got Some(1)".to_string(),
                format!("panic Some(\"b fails\") at line {b}"),
                "main got None".to_string(),
                format!("panic Some(\"main fails after a yield\") at line {main}"),
                "tick".to_string(),
            ]
        );
    }

    #[test]
    fn a_panic_in_a_poll_run_by_the_drain_reports_the_tasks_site() {
        let _w = crate::test_watchdog::watchdog();
        // Two polls queued: the first is not the sole microtask, so the drain
        // runs it, and the site comes from the task's slot as it unwinds.
        let out = same_with_and_without_fast_paths(|log| {
            say(log, format!("a spawned at line {}", line!() + 1));
            spawn(async {
                yield_now().await;
                panic!("a fails");
            })
            .detach();
            let l = log.clone();
            spawn(async move {
                yield_now().await;
                say(&l, "b runs");
            })
            .detach();
        });
        let line = out[0].strip_prefix("a spawned at line ").unwrap();
        assert_eq!(
            out[1..],
            [
                format!("panic Some(\"a fails\") at line {line}"),
                "b runs".to_string()
            ]
        );
    }

    #[test]
    fn awaiting_a_task_of_the_loop_clones_no_waker() {
        let _w = crate::test_watchdog::watchdog();
        // The awaiter is recorded by key: no `Arc` waker is made, so a
        // task waiting on a task that nothing can wake does not keep the
        // loop alive either (Node exits when `main` awaits a promise that
        // never settles, however deep the chain).
        let lp = EventLoop::new().unwrap();
        let (resolver, value) = deferred::<u32>();
        let keep = Rc::new(RefCell::new(Some(resolver)));
        let log: Log = Rc::default();
        let l = log.clone();
        lp.run_main(move || {
            let inner = spawn(value);
            spawn(async move {
                let v = inner.await;
                say(&l, format!("inner gave {v:?}"));
            })
            .detach();
            with_core("test", |core| {
                assert!(core.executor.arcs.borrow().is_empty())
            });
        });
        assert!(log.borrow().is_empty());
        assert_eq!(lp.live_tasks(), 2, "both still pending");
        assert!(!lp.is_alive());
        // Settling it later wakes the chain on the next run.
        lp.enter(|| keep.borrow_mut().take().unwrap().resolve(7));
        lp.run(crate::RunMode::Default);
        assert_eq!(*log.borrow(), ["inner gave Ok(7)"]);
        assert_eq!(lp.live_tasks(), 0);
    }

    #[test]
    fn a_foreign_waker_awaiting_a_task_is_kept_aside_until_the_task_ends() {
        let _w = crate::test_watchdog::watchdog();
        struct Count(std::sync::atomic::AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let lp = EventLoop::new().unwrap();
        let wakers = |lp: &EventLoop| {
            lp.enter(|| with_core("test", |c| c.executor.join_wakers.borrow().len()))
        };
        let count = Arc::new(Count(Default::default()));
        let waker = Waker::from(count.clone());
        let (r1, v1) = deferred::<u32>();
        let (r2, v2) = deferred::<u32>();
        let log: Log = Rc::default();
        let l = log.clone();
        let mut first = lp.enter(|| spawn(v1));
        lp.enter(|| {
            let mut cx = Context::from_waker(&waker);
            assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
            // The same waker again: kept, not cloned again.
            assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
        });
        assert_eq!(wakers(&lp), 1);
        assert_eq!(Arc::strong_count(&count), 3, "the test's two and one clone");
        lp.enter(|| r1.resolve(1));
        lp.run(crate::RunMode::Default);
        assert_eq!(count.0.load(Ordering::Relaxed), 1, "woken when it ended");
        assert_eq!(wakers(&lp), 0);
        assert_eq!(lp.enter(|| first.take_output()), Some(Ok(1)));
        // A foreign waker, then a task of the loop: the waker is dropped.
        let mut second = lp.enter(|| spawn(v2));
        lp.enter(|| {
            let mut cx = Context::from_waker(&waker);
            assert!(Pin::new(&mut second).poll(&mut cx).is_pending());
            spawn(async move { say(&l, format!("{:?}", second.await)) }).detach();
        });
        assert_eq!(wakers(&lp), 0);
        assert_eq!(Arc::strong_count(&count), 2);
        lp.enter(|| r2.resolve(2));
        lp.run(crate::RunMode::Default);
        assert_eq!(*log.borrow(), ["Ok(2)"]);
        assert_eq!(count.0.load(Ordering::Relaxed), 1, "not woken again");
        assert_eq!(lp.live_tasks(), 0);
    }

    #[test]
    fn a_cloned_waker_is_tracked_until_the_task_ends() {
        let _w = crate::test_watchdog::watchdog();
        let lp = EventLoop::new().unwrap();
        let waker = Rc::new(RefCell::new(None::<Waker>));
        let w = waker.clone();
        let log: Log = Rc::default();
        let l = log.clone();
        lp.enter(move || {
            spawn(async move {
                let mut polled = false;
                std::future::poll_fn(|cx| {
                    if std::mem::replace(&mut polled, true) {
                        return Poll::Ready(());
                    }
                    *w.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                })
                .await;
                say(&l, "woken");
            })
            .detach();
        });
        let count =
            |lp: &EventLoop| lp.enter(|| with_core("test", |c| c.executor.arcs.borrow().len()));
        assert_eq!(count(&lp), 1);
        assert!(lp.is_alive(), "its waker is held: it can be woken");
        let held = waker.borrow_mut().take().unwrap();
        held.wake_by_ref();
        lp.run(crate::RunMode::Default);
        assert_eq!(*log.borrow(), ["woken"]);
        assert_eq!(count(&lp), 0, "a finished task's waker is forgotten");
        drop(held);
        assert_eq!(lp.live_tasks(), 0);
    }
}

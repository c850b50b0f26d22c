//! The future executor: tasks on the loop, polled in the microtask
//! checkpoint so that `await` orders like a resolved promise.
//!
//! A task is one heap cell (its future, then its output) in a slab, plus an
//! `Arc` waker that is reused from a pool once a task is gone. Waking a task
//! queues one microtask that polls it; a task woken twice before it runs is
//! polled once. The executor's own leaf futures (timers, promises, channels)
//! recognise their task's waker and store the task's key instead of cloning
//! the waker, so the common wake is a queue push with no atomics and no
//! allocation; any other waker (from another executor, or woken from another
//! thread) goes through `Waker`, and a wake from another thread reaches the
//! loop through the cross-thread path.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::pin::Pin;
use std::ptr;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Wake, Waker};

use slab::Slab;

use crate::event_loop::{Callback, Core, Site, try_with_core, with_core};
use crate::remote::Remote;

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

/// A task's future and, once it is done, its output.
trait Runnable {
    /// Polls the future; on completion stores the output and drops the
    /// future.
    fn poll_run(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
    /// `&mut Option<T>` holding the output, for `Task<T>` to take.
    fn output(self: Pin<&mut Self>) -> &mut dyn Any;
}

pin_project_lite::pin_project! {
    struct TaskCell<F: Future> {
        #[pin]
        future: Option<F>,
        output: Option<F::Output>,
    }
}

impl<F: Future> Runnable for TaskCell<F>
where
    F::Output: 'static,
{
    fn poll_run(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        match future.poll(cx) {
            Poll::Ready(out) => {
                *this.output = Some(out);
                this.future.set(None);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn output(self: Pin<&mut Self>) -> &mut dyn Any {
        self.project().output
    }
}

struct Slot {
    /// `None` while the task is being polled (taken out so no borrow is held
    /// across the poll).
    cell: Option<Pin<Box<dyn Runnable>>>,
    /// The task's thread-safe waker, made the first time a poll's waker is
    /// cloned (most tasks never need one: see `PollCtx`).
    arc: Option<Arc<TaskWaker>>,
    /// The waker of whoever awaits the `Task` handle.
    join: Option<Waker>,
    generation: u32,
    scheduled: bool,
    done: bool,
    /// The `Task` handle was dropped: free the slot when done.
    detached: bool,
    /// For [`spawn_fallible`] tasks: reads the output and says which error
    /// nobody will ever see.
    probe: Option<Probe>,
    site: Site,
}

/// Reads a finished task's `Option<Result<T, E>>` output; the error's
/// `Debug` text if it is an `Err`.
type Probe = fn(&mut dyn Any) -> Option<String>;

fn probe<T: 'static, E: fmt::Debug + 'static>(output: &mut dyn Any) -> Option<String> {
    match output.downcast_mut::<Option<Result<T, E>>>()? {
        Some(Err(e)) => Some(format!("{e:?}")),
        _ => None,
    }
}

impl Slot {
    /// Called when a finished task's output is dropped unobserved.
    fn report_unobserved(&mut self) {
        let (Some(probe), Some(cell)) = (self.probe, self.cell.as_mut()) else {
            return;
        };
        if let Some(error) = probe(cell.as_mut().output()) {
            log::error!(
                target: "evloop",
                "unhandled error: the task spawned at {}:{} failed and nothing awaits it: {error}",
                self.site.file(),
                self.site.line()
            );
        }
    }
}

/// All tasks of one loop.
pub(crate) struct Executor {
    tasks: RefCell<Slab<Slot>>,
    next_gen: Cell<u32>,
    /// Tasks not yet done: these keep the loop alive while something can
    /// still wake them.
    pending: Cell<usize>,
    /// The task being polled and the data pointer of its waker, so leaf
    /// futures can recognise their own task's waker.
    polling: Cell<Option<(TaskKey, *const ())>>,
}

impl Executor {
    pub(crate) fn new() -> Executor {
        Executor {
            tasks: RefCell::new(Slab::new()),
            next_gen: Cell::new(0),
            pending: Cell::new(0),
            polling: Cell::new(None),
        }
    }

    /// Tasks not yet finished.
    pub(crate) fn pending(&self) -> usize {
        self.pending.get()
    }

    /// Tasks in the table (pending, or finished with an output not taken).
    pub(crate) fn live(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Whether some pending task can still be woken from outside the loop:
    /// its waker has been cloned and is held somewhere (e.g. by a thread).
    /// A pending task whose waker nobody holds can never run again, like a
    /// promise nothing will settle; such tasks do not keep the loop alive.
    pub(crate) fn any_wakeable(&self) -> bool {
        self.tasks
            .borrow()
            .iter()
            .any(|(_, s)| !s.done && s.arc.as_ref().is_some_and(|a| Arc::strong_count(a) > 1))
    }

    fn get_mut(tasks: &mut Slab<Slot>, key: TaskKey) -> Option<&mut Slot> {
        tasks
            .get_mut(key.index as usize)
            .filter(|s| s.generation == key.generation)
    }

    /// Queues a poll of `key` in the microtask queue, unless one is queued.
    pub(crate) fn schedule(&self, core: &Core, key: TaskKey) {
        let site = {
            let mut tasks = self.tasks.borrow_mut();
            let Some(slot) = Executor::get_mut(&mut tasks, key) else {
                return;
            };
            if slot.scheduled || slot.done {
                return;
            }
            slot.scheduled = true;
            slot.site
        };
        core.microtasks
            .borrow_mut()
            .push_back(task_callback(key, site));
    }

    /// If `waker` is the waker of the task being polled, that task's key.
    fn own_task(&self, waker: &Waker) -> Option<TaskKey> {
        match self.polling.get() {
            Some((key, data)) if waker.data() == data && ptr::eq(waker.vtable(), &POLL_VTABLE) => {
                Some(key)
            }
            _ => None,
        }
    }

    /// Drops every task (loop teardown). Returns how many there were.
    pub(crate) fn clear(&self) -> usize {
        let tasks = std::mem::take(&mut *self.tasks.borrow_mut());
        let n = tasks.len();
        self.pending.set(0);
        drop(tasks);
        n
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
    pub(crate) fn new(cx: &Context<'_>) -> Waiter {
        let own = try_with_core(|core| {
            core.executor
                .own_task(cx.waker())
                .map(|key| Waiter::Task(core.id, key))
        });
        own.flatten()
            .unwrap_or_else(|| Waiter::Waker(cx.waker().clone()))
    }

    /// Stores a waiter for `cx` in `slot`, keeping the old one if it would
    /// wake the same task.
    pub(crate) fn register(slot: &mut Option<Waiter>, cx: &Context<'_>) {
        if let Some(Waiter::Waker(w)) = slot
            && w.will_wake(cx.waker())
        {
            return;
        }
        let new = Waiter::new(cx);
        if let (Some(Waiter::Task(_, old)), Waiter::Task(_, key)) = (&*slot, &new)
            && old == key
        {
            return;
        }
        *slot = Some(new);
    }

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
/// stack of `poll_task` for exactly that poll: a `Context` cannot outlive
/// the poll, so neither can the borrowed `Waker` that points here. Cloning
/// that waker makes (once per task) the `Arc<TaskWaker>` that may go
/// anywhere; waking it by reference schedules the task directly. Every field
/// is `Sync`, so a `&Waker` shared with a scoped thread during the poll is
/// still sound.
struct PollCtx<'a> {
    key: TaskKey,
    loop_id: u32,
    remote: &'a Remote,
    arc: OnceLock<Arc<TaskWaker>>,
    /// Woken while being polled (typically `yield_now`): `poll_task`
    /// schedules it when the poll returns, without another table lookup.
    woken: AtomicBool,
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
    // SAFETY: the caller's contract; only `poll_task` makes such wakers, and
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

/// The microtask that polls task `key`.
fn task_callback(key: TaskKey, site: Site) -> Callback {
    let packed = key.pack();
    Callback {
        f: crate::callback::SmallFn::once(move || poll_task(TaskKey::unpack(packed))),
        site,
    }
}

/// Polls one task (the body of its microtask).
fn poll_task(key: TaskKey) {
    with_core("poll_task", |core| {
        let ex = &core.executor;
        let (mut cell, arc) = {
            let mut tasks = ex.tasks.borrow_mut();
            let Some(slot) = Executor::get_mut(&mut tasks, key) else {
                return;
            };
            slot.scheduled = false;
            // A wake that arrived during the task's last poll queued this
            // poll; the task has finished since.
            if slot.done {
                return;
            }
            let Some(cell) = slot.cell.take() else {
                return;
            };
            (cell, slot.arc.take())
        };
        let remote = core.remote_ref();
        let ctx = PollCtx {
            key,
            loop_id: core.id,
            remote,
            arc: arc.map(OnceLock::from).unwrap_or_default(),
            woken: AtomicBool::new(false),
        };
        let data = (&ctx as *const PollCtx<'_>).cast::<()>();
        // SAFETY: the vtable's functions uphold `RawWaker`'s contract: the
        // data pointer stays valid while any `Waker` made from it exists
        // (it is only lent by reference for this poll; clones are `Arc`
        // wakers), and every function is thread-safe.
        let waker =
            ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &POLL_VTABLE)) });
        let outer = ex.polling.replace(Some((key, data)));
        // If the poll panics, the guard marks the task finished so nothing
        // waits on it forever; the panic goes on to the loop's policy.
        let guard = PollGuard { core, key };
        let result = cell.as_mut().poll_run(&mut Context::from_waker(&waker));
        std::mem::forget(guard);
        ex.polling.set(outer);
        let mut tasks = ex.tasks.borrow_mut();
        let slot = Executor::get_mut(&mut tasks, key).expect("a task cannot vanish while polled");
        slot.arc = ctx.arc.into_inner();
        slot.cell = Some(cell);
        if result.is_pending() {
            if ctx.woken.into_inner() && !slot.scheduled {
                slot.scheduled = true;
                let site = slot.site;
                drop(tasks);
                core.microtasks
                    .borrow_mut()
                    .push_back(task_callback(key, site));
            }
            return;
        }
        slot.done = true;
        ex.pending.set(ex.pending.get() - 1);
        let join = slot.join.take();
        if slot.detached {
            let mut slot = tasks.remove(key.index as usize);
            drop(tasks);
            slot.report_unobserved();
            drop(slot);
        } else {
            drop(tasks);
        }
        if let Some(join) = join {
            join.wake();
        }
    })
}

struct PollGuard<'a> {
    core: &'a Core,
    key: TaskKey,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        // Only reached while unwinding from a panicking poll.
        let ex = &self.core.executor;
        ex.polling.set(None);
        let mut tasks = ex.tasks.borrow_mut();
        if let Some(slot) = Executor::get_mut(&mut tasks, self.key) {
            slot.done = true;
            ex.pending.set(ex.pending.get() - 1);
            let join = slot.join.take();
            let slot = tasks.remove(self.key.index as usize);
            drop(tasks);
            drop(slot);
            // Whoever awaits it learns it panicked (see `Task`).
            if let Some(join) = join {
                join.wake();
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
    spawn_inner(future, None, Location::caller())
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
    spawn_inner(future, Some(probe::<T, E>), Location::caller())
}

fn spawn_inner<F>(future: F, probe: Option<Probe>, site: Site) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let (key, loop_id) = with_core("spawn", |core| {
        let ex = &core.executor;
        let generation = ex.next_gen.get();
        ex.next_gen.set(generation.wrapping_add(1));
        let mut tasks = ex.tasks.borrow_mut();
        let entry = tasks.vacant_entry();
        let key = TaskKey {
            index: u32::try_from(entry.key()).expect("more than 2^32 tasks"),
            generation,
        };
        entry.insert(Slot {
            cell: Some(Box::pin(TaskCell {
                future: Some(future),
                output: None,
            })),
            arc: None,
            join: None,
            generation,
            scheduled: true,
            done: false,
            detached: false,
            probe,
            site,
        });
        ex.pending.set(ex.pending.get() + 1);
        (key, core.id)
    });
    // The first poll, synchronously, as an async function call.
    poll_task(key);
    Task {
        key,
        loop_id,
        waited: false,
        _output: PhantomData,
    }
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
    loop_id: u32,
    /// Polled once already (the "one tick" for a finished task is spent).
    waited: bool,
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
        let first = !std::mem::replace(&mut self.waited, true);
        with_core("Task::poll", |core| {
            assert_eq!(
                core.id, self.loop_id,
                "evloop: a Task was awaited on another loop"
            );
            let ex = &core.executor;
            let mut tasks = ex.tasks.borrow_mut();
            let Some(slot) = Executor::get_mut(&mut tasks, key) else {
                panic!("evloop: the awaited task panicked or was aborted");
            };
            if !slot.done {
                match &slot.join {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => slot.join = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
            if first {
                // Already settled: resume one microtask later, like `await`
                // of a resolved promise.
                drop(tasks);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let cell = slot.cell.as_mut().expect("a finished task keeps its cell");
            let out = cell
                .as_mut()
                .output()
                .downcast_mut::<Option<T>>()
                .expect("Task<T> matches its task's output type")
                .take()
                .expect("a task's output is taken once");
            let slot = tasks.remove(key.index as usize);
            drop(tasks);
            drop(slot);
            Poll::Ready(out)
        })
    }
}

impl<T: 'static> Task<T> {
    /// Takes the output of a finished task without awaiting (no microtask
    /// delay); `None` if it has not finished.
    pub(crate) fn take_output(&mut self) -> Option<T> {
        with_core("Task::take_output", |core| {
            let ex = &core.executor;
            let mut tasks = ex.tasks.borrow_mut();
            let slot = Executor::get_mut(&mut tasks, self.key)?;
            if !slot.done {
                return None;
            }
            let out = slot
                .cell
                .as_mut()?
                .as_mut()
                .output()
                .downcast_mut::<Option<T>>()
                .and_then(Option::take);
            let slot = tasks.remove(self.key.index as usize);
            drop(tasks);
            drop(slot);
            out
        })
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
        let slot = with_core("Task::abort", |core| {
            if core.id != loop_id {
                return None;
            }
            let ex = &core.executor;
            let mut tasks = ex.tasks.borrow_mut();
            let slot = Executor::get_mut(&mut tasks, key)?;
            if slot.cell.is_none() {
                // Aborting itself from inside its own poll: finish as detached.
                slot.detached = true;
                return None;
            }
            if !slot.done {
                ex.pending.set(ex.pending.get() - 1);
            }
            Some(tasks.remove(key.index as usize))
        });
        // Dropped outside the table's borrow: the future's destructor may
        // touch the loop.
        drop(slot);
    }

    /// Whether the task has finished (its output may not be taken yet).
    pub fn is_finished(&self) -> bool {
        with_core("Task::is_finished", |core| {
            let mut tasks = core.executor.tasks.borrow_mut();
            Executor::get_mut(&mut tasks, self.key).is_none_or(|s| s.done)
        })
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        let key = self.key;
        let loop_id = self.loop_id;
        let slot = try_with_core(|core| {
            if core.id != loop_id {
                return None;
            }
            let ex = &core.executor;
            let mut tasks = ex.tasks.borrow_mut();
            let slot = Executor::get_mut(&mut tasks, key)?;
            if slot.done && slot.cell.is_some() {
                let mut slot = tasks.remove(key.index as usize);
                drop(tasks);
                slot.report_unobserved();
                return Some(slot);
            }
            slot.detached = true;
            slot.join = None;
            None
        })
        .flatten();
        drop(slot);
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

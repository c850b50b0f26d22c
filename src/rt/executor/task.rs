//! A task as its user sees it: `spawn` and `spawn_fallible`, which put a
//! future in the table and poll it at once; the task's cell in its slot (the
//! future, then its output, and the check of an output nobody will see for
//! an error to report, Node's unhandled rejection); the `Task` handle
//! (await, abort, detach, drop); and `yield_now`.
//!
//! The cell and the handle share this module on purpose: a generic item is
//! compiled in the user's crate into a codegen unit chosen by the module
//! its type is defined in, and `Task::poll` inlines into the `poll_run` of
//! the awaiting task's cell only if both land in the same one (split apart,
//! the `tasks` benchmark ran 5% more instructions).

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::arena::{Runnable, Slot};
use super::poll::first_poll;
use super::state::{DETACHED, DONE, FALLIBLE, HAS_JOIN, JOIN_WAKER, TaskKey, WAITED};
use super::waker::own_task;
use crate::rt::callback::Site;
use crate::rt::context::{try_with_core, with_core};
use crate::rt::core::Core;

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
    /// Whether the task is a `spawn_fallible` one (`FALLIBLE`).
    const FALLIBLE: bool;
    fn error(output: &O) -> Option<String>;
}

/// [`spawn`]: no check.
struct NoProbe;

impl<O> Probe<O> for NoProbe {
    const FALLIBLE: bool = false;
    fn error(_: &O) -> Option<String> {
        None
    }
}

/// [`spawn_fallible`]: an `Err` output is an unhandled rejection.
struct ErrProbe;

impl<T, E: fmt::Debug> Probe<Result<T, E>> for ErrProbe {
    const FALLIBLE: bool = true;
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
///   fail, [`spawn_fallible`] also reports an `Err` output that nothing
///   awaited in time. A plain `spawn` cannot look inside an arbitrary output
///   type, so its output is never a rejection.
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

/// [`spawn`] for a task that can fail: its `Err` is a promise's rejection,
/// with Node's unhandled-rejection rule. Awaiting the [`Task`] handles it,
/// exactly like a `.catch`, and for good: a task polled once (a
/// [`race`](crate::race) input that lost and was dropped, say) is handled
/// even if it fails later, as a promise with a reaction attached.
///
/// # Unhandled rejections
/// When the task ends in `Err` while nothing awaits its `Task`, the
/// rejection is checked once the ticks and microtasks of the current drain
/// have run (Node's `processTicksAndRejections`). If the `Task` was awaited
/// by then (say, in a [`next_tick`](crate::next_tick) or a microtask), it
/// was handled in time. Otherwise it is unhandled, and the loop's
/// [`UnhandledRejections`](crate::process::UnhandledRejections) mode says
/// what happens: by default (Node 20's `throw`) it emits
/// [`process::UnhandledRejection`](crate::process::UnhandledRejection), and
/// with no listener raises it as an uncaught panic (the panic handler, or
/// the run unwinds, naming the spawn site). Awaiting the `Task` after that
/// (from a later [`set_immediate`](crate::set_immediate), say) emits
/// [`process::RejectionHandled`](crate::process::RejectionHandled) at the
/// next check, or a `PromiseRejectionHandledWarning` if nobody listens.
///
/// This is Node's well-known pitfall, reproduced: holding a task to await
/// it later is not handling it. `let a = f(); let b = g(); a.await; b.await`
/// raises if `g`'s task fails while `a` is still awaited; await them
/// together ([`try_join!`](crate::try_join!)) or choose a mode
/// ([`Builder::unhandled_rejections`](crate::Builder::unhandled_rejections),
/// `EVLOOP_UNHANDLED_REJECTIONS=warn`).
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
        slot.flags.set(if P::FALLIBLE { FALLIBLE } else { 0 });
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
/// JavaScript promise nobody awaits does), and its output is dropped; the
/// `Err` of a [`spawn_fallible`] task never awaited is then an unhandled
/// rejection. Use
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
                if flags & FALLIBLE != 0 {
                    // Awaited once settled: a rejection nobody had
                    // handled is handled now (in time, or late).
                    core.rejection_handled(key.pack());
                }
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
            let flags = slot.flags.get();
            if flags & DONE == 0 {
                return None;
            }
            if flags & FALLIBLE != 0 {
                core.rejection_handled(self.key.pack());
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
    /// says so). A [`spawn_fallible`] task that then fails, never awaited,
    /// is an unhandled rejection.
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
                if flags & FALLIBLE != 0 {
                    core.rejection_forgotten(key.pack());
                }
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

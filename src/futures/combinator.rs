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

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use crate::rt::event_loop::try_with_core;
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

// ---------------------------------------------------------------------------
// join_all

/// Waits for every future and returns their outputs **in input order**:
/// `Promise.all` for futures that cannot fail.
///
/// # Ordering
/// Every input is polled once at the first poll, in input order (so each
/// runs synchronously up to its first pending `.await`, as each promise of a
/// `Promise.all` has started before it is called). The outputs are in input
/// order whatever order the inputs finish in. The combinator completes in the
/// poll in which its last input finishes, resuming the awaiting task in the
/// same microtask as that input's completion. An empty input completes at its
/// first poll with an empty `Vec` (`Promise.all([])`).
///
/// # How the combinators run
/// This applies to every combinator here ([`join_all`], [`try_join_all`],
/// [`all_settled`], [`race`], [`any`], [`join!`](crate::join!),
/// [`try_join!`](crate::try_join!)).
///
/// - **Start**: JavaScript starts every promise before `Promise.all` looks
///   at any; a Rust future starts when first polled. So a combinator polls
///   every input once at its own first poll, in input order, before it
///   decides anything.
/// - **Wake-ups cost O(1)**: each input has its own waker, which lists the
///   input as ready and wakes the combinator's task (once per batch). The
///   combinator then polls only the listed inputs, in the order they were
///   woken (the order they settled in), so a million inputs cost no more per
///   wake-up than three, and an input that was not woken is never polled
///   again (a spurious poll would, for one, let `yield_now` return early).
/// - **Microtasks**: the inputs run inside the combinator's task, in its
///   microtask. Inputs woken together resume one after another in that one
///   microtask; for exactly the interleaving of separate promises with
///   other tasks' microtasks, pass spawned [`Task`](crate::Task)s.
/// - **Cancellation**: a combinator that completes early drops the inputs
///   still running, which cancels them; dropping the combinator drops all of
///   them. Spawned [`Task`](crate::Task)s passed as inputs are only detached
///   and run on, as JavaScript promises do.
/// - **Keeping the loop alive**: the combinator's task is woken through
///   evloop's fast path (no waker clone), so a combinator waiting on inputs
///   that nothing will ever complete does not keep the loop alive, exactly as
///   if the task awaited one of them directly. An input woken from another
///   thread still wakes the task (through the loop's cross-thread queue), but
///   its waker alone does not keep the loop alive: spawn such an input as a
///   task and pass the `Task`, so that the thread holds the task's own waker,
///   which does.
///
/// # JavaScript
/// ```javascript
/// const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/// const job = async (name, ms) => { await sleep(ms); return name; };
/// const names = await Promise.all([job('a', 30), job('b', 10), job('c', 20)]);
/// // ['a', 'b', 'c'] after 30 ms
/// ```
///
/// # Rust
/// ```
/// use std::time::Duration;
/// async fn job(name: &'static str, ms: u64) -> &'static str {
///     evloop::sleep(Duration::from_millis(ms)).await;
///     name
/// }
/// evloop::run_async(async {
///     let start = evloop::now();
///     let names = evloop::join_all([job("a", 30), job("b", 10), job("c", 20)]).await;
///     assert_eq!(names, ["a", "b", "c"]);
///     assert!(evloop::now() - start >= 30);
/// });
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let group = Group::new(futures);
    let outputs = (0..group.len()).map(|_| None).collect();
    JoinAll {
        group,
        outputs,
        done: false,
    }
}

/// The future of [`join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    group: Group<F>,
    outputs: Vec<Option<F::Output>>,
    done: bool,
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.done {
            polled_after_completion("JoinAll");
        }
        let outputs = &mut this.outputs;
        let flow = this.group.poll(cx, |i, out| -> ControlFlow<()> {
            outputs[i] = Some(out);
            ControlFlow::Continue(())
        });
        debug_assert!(flow.is_continue());
        if this.group.left > 0 {
            return Poll::Pending;
        }
        this.done = true;
        this.group.finish();
        let outputs = std::mem::take(&mut this.outputs);
        Poll::Ready(
            outputs
                .into_iter()
                .map(|o| o.expect("every input finished"))
                .collect(),
        )
    }
}

// Inputs are boxed and outputs are never pinned: moving is fine.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JoinAll").field(&self.group).finish()
    }
}

// ---------------------------------------------------------------------------
// try_join_all

/// Waits for every future to return `Ok` and returns the values **in input
/// order**, or fails fast with the first `Err`: `Promise.all` with
/// rejections.
///
/// # Errors
/// The first `Err` an input returns, **the moment it returns it**: the
/// combinator does not wait for the others. "First" is the order of
/// completion; among inputs that fail at the first poll (already failed when
/// called), the earliest in input order.
///
/// # What happens to the other inputs
/// When it fails, the combinator **drops the other inputs at once, which
/// cancels them** (a sleeping input's timer is cleared, and so on). In
/// JavaScript they run on, since a promise cannot be cancelled. To get
/// JavaScript's behaviour, spawn each input with [`spawn`](crate::spawn) and
/// pass the [`Task`](crate::Task) handles: dropping a `Task` only detaches
/// it, and it runs to completion (its output is then dropped).
///
/// # Ordering
/// As [`join_all`] (see "How the combinators run" there): every input is
/// polled once at the first poll, in input order, before the result is
/// decided; the outputs are in input order; an empty input gives
/// `Ok(vec![])` at once.
///
/// # JavaScript
/// ```javascript
/// try {
///   await Promise.all([job('a', 30), fail('b', 10), job('c', 20)]);
/// } catch (err) {
///   // rejected at 10 ms with b's error; a and c still run to the end
/// }
/// ```
///
/// # Rust
/// ```
/// use std::time::Duration;
/// async fn job(name: &'static str, ms: u64, ok: bool) -> Result<&'static str, String> {
///     evloop::sleep(Duration::from_millis(ms)).await;
///     if ok { Ok(name) } else { Err(format!("{name} failed")) }
/// }
/// // Virtual time: instant, and the times below are exact.
/// let lp = evloop::EventLoop::builder().virtual_time(true).build().unwrap();
/// lp.run_async(async {
///     let start = evloop::now();
///     // Futures: a and c are cancelled when b fails.
///     let r = evloop::try_join_all([job("a", 30, true), job("b", 10, false), job("c", 20, true)]).await;
///     assert_eq!(r, Err("b failed".to_string()));
///     assert_eq!(evloop::now() - start, 10);
///
///     // Tasks: a and c run on after the failure, as in JavaScript.
///     let tasks = [("a", 30, true), ("b", 10, false), ("c", 20, true)]
///         .map(|(n, ms, ok)| evloop::spawn(job(n, ms, ok)));
///     assert!(evloop::try_join_all(tasks).await.is_err());
/// });
/// ```
pub fn try_join_all<I, T, E>(futures: I) -> TryJoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let group = Group::new(futures);
    let values = (0..group.len()).map(|_| None).collect();
    TryJoinAll {
        group,
        values,
        done: false,
    }
}

/// The future of [`try_join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct TryJoinAll<F: Future> {
    group: Group<F>,
    /// The `Ok` outputs so far.
    values: Vec<Option<F::Output>>,
    done: bool,
}

impl<F, T, E> Future for TryJoinAll<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.done {
            polled_after_completion("TryJoinAll");
        }
        let values = &mut this.values;
        let flow = this.group.poll(cx, |i, out| match out {
            Ok(v) => {
                values[i] = Some(Ok(v));
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(e),
        });
        if let ControlFlow::Break(e) = flow {
            this.done = true;
            this.group.finish();
            this.values = Vec::new();
            return Poll::Ready(Err(e));
        }
        if this.group.left > 0 {
            return Poll::Pending;
        }
        this.done = true;
        this.group.finish();
        let values = std::mem::take(&mut this.values);
        Poll::Ready(Ok(values
            .into_iter()
            .map(|v| match v {
                Some(Ok(v)) => v,
                _ => unreachable!("every input succeeded"),
            })
            .collect()))
    }
}

// Inputs are boxed and outputs are never pinned: moving is fine.
impl<F: Future> Unpin for TryJoinAll<F> {}

impl<F: Future> fmt::Debug for TryJoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TryJoinAll").field(&self.group).finish()
    }
}

// ---------------------------------------------------------------------------
// all_settled

/// Waits for every future, successful or not, and returns every outcome **in
/// input order**: `Promise.allSettled`. It never fails; an `Err` in the output
/// is a rejected input (`{ status: 'rejected', reason }`), an `Ok` a fulfilled
/// one.
///
/// # Ordering
/// As [`join_all`] (it is `join_all` over futures of `Result`): every input
/// is polled once at the first poll, in input order; it completes when the
/// last input does.
///
/// # JavaScript
/// ```javascript
/// const outcomes = await Promise.allSettled([job('a', 30), fail('b', 10), job('c', 20)]);
/// // [{status: 'fulfilled', value: 'a'}, {status: 'rejected', reason: ...}, ...]
/// ```
///
/// # Rust
/// ```
/// use std::time::Duration;
/// async fn job(name: &'static str, ms: u64, ok: bool) -> Result<&'static str, String> {
///     evloop::sleep(Duration::from_millis(ms)).await;
///     if ok { Ok(name) } else { Err(format!("{name} failed")) }
/// }
/// evloop::run_async(async {
///     let outcomes =
///         evloop::all_settled([job("a", 30, true), job("b", 10, false), job("c", 20, true)]).await;
///     assert_eq!(outcomes, [Ok("a"), Err("b failed".to_string()), Ok("c")]);
/// });
/// ```
pub fn all_settled<I, T, E>(futures: I) -> AllSettled<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    AllSettled {
        inner: join_all(futures),
    }
}

/// The future of [`all_settled`].
#[must_use = "futures do nothing unless awaited"]
pub struct AllSettled<F: Future> {
    inner: JoinAll<F>,
}

impl<F, T, E> Future for AllSettled<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Vec<Result<T, E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().inner).poll(cx)
    }
}

// Inputs are boxed and outputs are never pinned: moving is fine.
impl<F: Future> Unpin for AllSettled<F> {}

impl<F: Future> fmt::Debug for AllSettled<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AllSettled")
            .field(&self.inner.group)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// race

/// Returns the output of the first future to complete: `Promise.race`.
/// Over futures of `Result`, an `Err` that comes first wins like an `Ok`
/// (a rejection settles `Promise.race`).
///
/// # Ordering
/// Every input is polled once at the first poll, in input order; if several
/// are complete then (a tie), the earliest in input order wins. Later, the
/// first input found complete wins, and woken inputs are re-polled in the
/// order they were woken, i.e. the order they settled in.
///
/// The losers are **dropped (cancelled)** when the race completes; in
/// JavaScript they run on. Pass spawned [`Task`](crate::Task) handles to let
/// them run on.
///
/// An empty race never completes, as `Promise.race([])` never settles (and,
/// like it, does not keep the loop alive).
///
/// # JavaScript
/// ```javascript
/// const winner = await Promise.race([job('a', 60), job('b', 10), job('c', 30)]);
/// // 'b' after 10 ms
/// ```
///
/// # Rust
/// ```
/// use std::time::Duration;
/// async fn job(name: &'static str, ms: u64) -> &'static str {
///     evloop::sleep(Duration::from_millis(ms)).await;
///     name
/// }
/// evloop::run_async(async {
///     let winner = evloop::race([job("a", 60), job("b", 10), job("c", 30)]).await;
///     assert_eq!(winner, "b");
/// });
/// ```
pub fn race<I>(futures: I) -> Race<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    Race {
        group: Group::new(futures),
        done: false,
    }
}

/// The future of [`race`].
#[must_use = "futures do nothing unless awaited"]
pub struct Race<F> {
    group: Group<F>,
    done: bool,
}

impl<F: Future> Future for Race<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        if this.done {
            polled_after_completion("Race");
        }
        match this.group.poll(cx, |_, out| ControlFlow::Break(out)) {
            ControlFlow::Break(out) => {
                this.done = true;
                this.group.finish();
                Poll::Ready(out)
            }
            ControlFlow::Continue(()) => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Race<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Race").field(&self.group).finish()
    }
}

// ---------------------------------------------------------------------------
// any

/// Returns the first `Ok`, ignoring failures until every input has failed:
/// `Promise.any`.
///
/// # Errors
/// [`AggregateError`] holding **every** input's error **in input order**
/// (not failure order), once all of them have failed. An empty input fails
/// at once with no errors, as `Promise.any([])` rejects.
///
/// # Ordering
/// Every input is polled once at the first poll, in input order; among
/// inputs already successful then, the earliest in input order wins. Later,
/// the first `Ok` found wins (woken inputs are re-polled in wake order). The
/// other inputs are **dropped (cancelled)** when it succeeds; pass spawned
/// [`Task`](crate::Task) handles to let them run on, as in JavaScript.
///
/// # JavaScript
/// ```javascript
/// try {
///   const first = await Promise.any([fail('a', 30), fail('b', 10), fail('c', 20)]);
/// } catch (err) {
///   // err instanceof AggregateError; err.errors: [a's, b's, c's] in input order
/// }
/// ```
///
/// # Rust
/// ```
/// use std::time::Duration;
/// async fn job(name: &'static str, ms: u64, ok: bool) -> Result<&'static str, String> {
///     evloop::sleep(Duration::from_millis(ms)).await;
///     if ok { Ok(name) } else { Err(format!("{name} failed")) }
/// }
/// evloop::run_async(async {
///     let first = evloop::any([job("a", 30, true), job("b", 10, false), job("c", 20, true)]).await;
///     assert_eq!(first, Ok("c"));
///
///     let err = evloop::any([job("a", 30, false), job("b", 10, false), job("c", 20, false)])
///         .await
///         .unwrap_err();
///     assert_eq!(err.errors(), ["a failed", "b failed", "c failed"]);
/// });
/// ```
pub fn any<I, T, E>(futures: I) -> Any<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let group = Group::new(futures);
    let errors = (0..group.len()).map(|_| None).collect();
    Any {
        group,
        errors,
        done: false,
    }
}

/// The future of [`any`].
#[must_use = "futures do nothing unless awaited"]
pub struct Any<F: Future> {
    group: Group<F>,
    /// The `Err` outputs so far.
    errors: Vec<Option<F::Output>>,
    done: bool,
}

impl<F, T, E> Future for Any<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, AggregateError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.done {
            polled_after_completion("Any");
        }
        let errors = &mut this.errors;
        let flow = this.group.poll(cx, |i, out| match out {
            Ok(v) => ControlFlow::Break(v),
            Err(e) => {
                errors[i] = Some(Err(e));
                ControlFlow::Continue(())
            }
        });
        if let ControlFlow::Break(v) = flow {
            this.done = true;
            this.group.finish();
            this.errors = Vec::new();
            return Poll::Ready(Ok(v));
        }
        if this.group.left > 0 {
            return Poll::Pending;
        }
        this.done = true;
        this.group.finish();
        let errors = std::mem::take(&mut this.errors);
        Poll::Ready(Err(AggregateError {
            errors: errors
                .into_iter()
                .map(|e| match e {
                    Some(Err(e)) => e,
                    _ => unreachable!("every input failed"),
                })
                .collect(),
        }))
    }
}

// Inputs are boxed and outputs are never pinned: moving is fine.
impl<F: Future> Unpin for Any<F> {}

impl<F: Future> fmt::Debug for Any<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Any").field(&self.group).finish()
    }
}

/// Every input of [`any`] failed: JavaScript's `AggregateError`. Holds each
/// input's error in **input order** (`err.errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateError<E> {
    errors: Vec<E>,
}

impl<E> AggregateError<E> {
    /// The errors, one per input, in input order (`err.errors`).
    pub fn errors(&self) -> &[E] {
        &self.errors
    }

    /// Takes the errors, one per input, in input order.
    pub fn into_errors(self) -> Vec<E> {
        self.errors
    }
}

impl<E> fmt::Display for AggregateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "all {} futures failed", self.errors.len())
    }
}

impl<E: fmt::Debug> std::error::Error for AggregateError<E> {}

// ---------------------------------------------------------------------------
// join! and try_join!

/// Support for the [`join!`](crate::join!) and [`try_join!`](crate::try_join!)
/// macros. Not a public API.
#[doc(hidden)]
pub mod __private {
    use super::*;

    /// One input of a macro: the future, then its output.
    pub struct MaybeDone<F: Future> {
        future: Option<Pin<Box<F>>>,
        output: Option<F::Output>,
    }

    impl<F: Future> MaybeDone<F> {
        pub fn new(future: F) -> MaybeDone<F> {
            MaybeDone {
                future: Some(Box::pin(future)),
                output: None,
            }
        }

        pub fn is_done(&self) -> bool {
            self.future.is_none()
        }

        pub fn take(&mut self) -> F::Output {
            self.output
                .take()
                .expect("evloop: join! output taken twice")
        }

        pub fn cancel(&mut self) {
            self.future = None;
        }
    }

    impl<F: Future<Output = Result<T, E>>, T, E> MaybeDone<F> {
        pub fn is_err(&self) -> bool {
            matches!(self.output, Some(Err(_)))
        }

        pub fn take_err(&mut self) -> Option<E> {
            match self.output.take() {
                Some(Err(e)) => Some(e),
                other => {
                    self.output = other;
                    None
                }
            }
        }

        pub fn take_ok(&mut self) -> T {
            match self.output.take() {
                Some(Ok(v)) => v,
                _ => panic!("evloop: try_join! output taken twice"),
            }
        }
    }

    /// The wakers of a macro's fixed set of inputs.
    pub struct Fixed {
        wakeup: Arc<Wakeup>,
        wakers: Vec<Waker>,
        batch: Vec<usize>,
        started: bool,
        first: bool,
        done: bool,
    }

    impl Fixed {
        pub fn new(n: usize) -> Fixed {
            let wakeup = Wakeup::new(n);
            let wakers = (0..n).map(|i| wakeup.child_waker(i)).collect();
            Fixed {
                wakeup,
                wakers,
                batch: Vec::new(),
                started: false,
                first: true,
                done: false,
            }
        }

        /// The inputs to poll now: all, in order, the first time; then the
        /// woken ones in wake order. Hand the list back with `end`.
        pub fn begin(&mut self, cx: &Context<'_>) -> Vec<usize> {
            if self.done {
                polled_after_completion("join!");
            }
            self.wakeup.begin(cx, &mut self.batch);
            self.first = !self.started;
            if self.first {
                self.started = true;
                self.batch.clear();
                self.batch.extend(0..self.wakers.len());
            }
            std::mem::take(&mut self.batch)
        }

        /// Whether this is the first poll (every input is polled, and
        /// nothing is decided until all were).
        pub fn is_first(&self) -> bool {
            self.first
        }

        /// Hands back the list from `begin` once the due inputs are polled.
        pub fn end(&mut self, mut batch: Vec<usize>) {
            batch.clear();
            self.batch = batch;
        }

        /// Polls input `i` if it is still running.
        pub fn poll_child<F: Future>(&mut self, i: usize, child: &mut MaybeDone<F>) {
            self.wakeup.queued[i].swap(false, Ordering::AcqRel);
            let Some(future) = child.future.as_mut() else {
                return;
            };
            if let Poll::Ready(out) = future
                .as_mut()
                .poll(&mut Context::from_waker(&self.wakers[i]))
            {
                child.future = None;
                child.output = Some(out);
            }
        }

        /// Ends the poll as pending unless `all_done`; returns whether it
        /// is pending.
        pub fn pending(&mut self, cx: &Context<'_>, all_done: bool) -> bool {
            if all_done {
                return false;
            }
            self.wakeup.end(cx, true);
            true
        }

        /// Ends the last poll: the macro completes.
        pub fn finish(&mut self) {
            self.done = true;
            self.wakeup.clear();
        }
    }

    impl Drop for Fixed {
        fn drop(&mut self) {
            self.wakeup.clear();
        }
    }
}

/// Internal to [`join!`](crate::join!) and [`try_join!`](crate::try_join!).
#[doc(hidden)]
#[macro_export]
macro_rules! __evloop_count {
    () => { 0usize };
    ($head:tt $($tail:tt)*) => { 1usize + $crate::__evloop_count!($($tail)*) };
}

/// Internal to [`join!`](crate::join!) and [`try_join!`](crate::try_join!):
/// pairs each future with a list of `_` as long as its index (to pick it out
/// of a tuple with a pattern), then expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __evloop_join {
    (@$kind:ident { ( $($count:tt)* ) $( ( $($skip:tt)* ) $f:expr, )* } $head:expr, $($tail:expr,)*) => {
        $crate::__evloop_join!(
            @$kind { ( $($count)* _ ) $( ( $($skip)* ) $f, )* ( $($count)* ) $head, } $($tail,)*
        )
    };
    (@join { ( $($count:tt)* ) $( ( $($skip:tt)* ) $f:expr, )* }) => {{
        let mut __futures = ( $( $crate::__private::MaybeDone::new($f), )* );
        let mut __fixed = $crate::__private::Fixed::new($crate::__evloop_count!($($count)*));
        ::core::future::poll_fn(move |__cx| {
            let __due = __fixed.begin(__cx);
            for &__i in __due.iter() {
                $(
                    if __i == $crate::__evloop_count!($($skip)*) {
                        let ( $($skip,)* __child, .. ) = &mut __futures;
                        __fixed.poll_child(__i, __child);
                    }
                )*
            }
            __fixed.end(__due);
            let mut __all = true;
            $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                __all &= __child.is_done();
            })*
            if __fixed.pending(__cx, __all) {
                return ::core::task::Poll::Pending;
            }
            __fixed.finish();
            ::core::task::Poll::Ready(( $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                __child.take()
            },)* ))
        })
        .await
    }};
    (@try_join { ( $($count:tt)* ) $( ( $($skip:tt)* ) $f:expr, )* }) => {{
        let mut __futures = ( $( $crate::__private::MaybeDone::new($f), )* );
        let mut __fixed = $crate::__private::Fixed::new($crate::__evloop_count!($($count)*));
        ::core::future::poll_fn(move |__cx| {
            let __due = __fixed.begin(__cx);
            let __first = __fixed.is_first();
            'poll: for &__i in __due.iter() {
                $(
                    if __i == $crate::__evloop_count!($($skip)*) {
                        let ( $($skip,)* __child, .. ) = &mut __futures;
                        __fixed.poll_child(__i, __child);
                        if !__first && __child.is_err() {
                            break 'poll;
                        }
                    }
                )*
            }
            __fixed.end(__due);
            // The first error: the only one after the first poll, the
            // earliest in input order at the first poll.
            let mut __error = ::core::option::Option::None;
            $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                if __error.is_none() {
                    __error = __child.take_err();
                }
            })*
            if let ::core::option::Option::Some(__e) = __error {
                // Fail fast: the others are cancelled now.
                $({
                    let ( $($skip,)* __child, .. ) = &mut __futures;
                    __child.cancel();
                })*
                __fixed.finish();
                return ::core::task::Poll::Ready(::core::result::Result::Err(__e));
            }
            let mut __all = true;
            $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                __all &= __child.is_done();
            })*
            if __fixed.pending(__cx, __all) {
                return ::core::task::Poll::Pending;
            }
            __fixed.finish();
            ::core::task::Poll::Ready(::core::result::Result::Ok(( $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                __child.take_ok()
            },)* )))
        })
        .await
    }};
}

/// Awaits a fixed set of futures of **different types** concurrently and
/// returns their outputs as a tuple, in argument order:
/// `const [a, b, c] = await Promise.all([a, b, c])`. Must be used inside an
/// `async` context (it awaits).
///
/// # Ordering
/// As [`join_all`](crate::join_all) (see "How the combinators run" there):
/// each future is polled once at the first poll, in argument order; after
/// that only woken futures are polled again, in wake order; it completes
/// when the last one does.
///
/// # JavaScript
/// ```javascript
/// const [n, s, unit] = await Promise.all([count(), name(), sleep(10)]);
/// ```
///
/// # Rust
/// ```
/// evloop::run_async(async {
///     let (n, s, ()) = evloop::join!(
///         async { 42 },
///         async { "text" },
///         evloop::sleep(10),
///     );
///     assert_eq!((n, s), (42, "text"));
/// });
/// ```
#[macro_export]
macro_rules! join {
    ($($f:expr),+ $(,)?) => {
        $crate::__evloop_join!(@join { () } $($f,)+)
    };
}

/// Awaits a fixed set of futures of **different types** returning
/// `Result<_, E>` (the same `E`) and returns `Ok` of a tuple of their values,
/// in argument order, or fails fast: `Promise.all` with rejections. Must be
/// used inside an `async` context (it awaits).
///
/// # Errors
/// The first `Err`, the moment it happens (among futures that fail at the
/// first poll, the earliest argument's). The other futures are then dropped
/// (cancelled), unlike JavaScript's promises, which run on; pass spawned
/// [`Task`](crate::Task)s to let them run on.
///
/// # Ordering
/// As [`join!`](crate::join!).
///
/// # JavaScript
/// ```javascript
/// try {
///   const [user, posts] = await Promise.all([getUser(id), getPosts(id)]);
/// } catch (err) { /* the first rejection */ }
/// ```
///
/// # Rust
/// ```
/// // Virtual time: instant, and the times below are exact.
/// let lp = evloop::EventLoop::builder().virtual_time(true).build().unwrap();
/// lp.run_async(async {
///     let ok: Result<(u32, &str), String> =
///         evloop::try_join!(async { Ok(7) }, async { Ok("posts") });
///     assert_eq!(ok, Ok((7, "posts")));
///
///     let start = evloop::now();
///     let failed: Result<(u32, ()), String> = evloop::try_join!(
///         async {
///             evloop::sleep(1000).await;
///             Ok(1)
///         },
///         async {
///             evloop::sleep(10).await;
///             Err("no posts".to_string())
///         },
///     );
///     assert_eq!(failed, Err("no posts".to_string()));
///     assert_eq!(evloop::now() - start, 10); // the 1000 ms sleep was dropped
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($f:expr),+ $(,)?) => {
        $crate::__evloop_join!(@try_join { () } $($f,)+)
    };
}

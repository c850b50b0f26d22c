//! [`join_all`] (`Promise.all`), [`try_join_all`] (`Promise.all` with
//! rejections) and [`all_settled`] (`Promise.allSettled`), on the shared
//! machinery in `group.rs`.

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::group::{Group, polled_after_completion};

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
/// [`all_settled`], [`race`](crate::race), [`any`](crate::any),
/// [`join!`](crate::join!), [`try_join!`](crate::try_join!)).
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
        if this.group.left() > 0 {
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
        if this.group.left() > 0 {
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

//! [`race`] (`Promise.race`) and [`any`] (`Promise.any`, failing with
//! [`AggregateError`]), on the shared machinery in `group.rs`.

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::group::{Group, polled_after_completion};

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
/// like it, does not keep the loop alive). The inputs share one type; for
/// two of different types, [`select`](fn@super::select).
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
        if this.group.left() > 0 {
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

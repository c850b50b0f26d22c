//! The callback↔future bridge: a one-shot value that a callback resolves and
//! a future awaits, like `new Promise((resolve) => ...)` and
//! `util.promisify`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::rt::executor::Waiter;
use crate::rt::panic::panic_message;

enum State<T> {
    Pending(Option<Waiter>),
    Resolved(T),
    /// The resolver was dropped unresolved.
    Broken,
    Taken,
}

/// Creates an unsettled one-shot: resolve it through the [`Resolver`], await
/// it through the [`Deferred`]. Both stay on the loop's thread.
///
/// A `Deferred` is a plain future, not a task: resolving one with an `Err`
/// that nobody awaits is dropped silently, never an unhandled rejection
/// (it has no type to look inside). For Node's rule, await it in
/// [`spawn_fallible`](crate::spawn_fallible) (`spawn_fallible(d)`).
///
/// ```
/// evloop::run_async(async {
///     let (resolver, value) = evloop::deferred();
///     evloop::set_timeout(10, move || resolver.resolve(42));
///     assert_eq!(value.await, Ok(42));
/// });
/// ```
#[inline]
pub fn deferred<T>() -> (Resolver<T>, Deferred<T>) {
    let state = Rc::new(RefCell::new(State::Pending(None)));
    (
        Resolver {
            state: Some(state.clone()),
        },
        Deferred {
            state,
            waited: false,
        },
    )
}

/// `new Promise(executor)`: calls `executor` right away with the resolver,
/// as JavaScript runs a promise executor synchronously, and returns the
/// future of the value. This is how a callback API becomes awaitable
/// (`util.promisify`).
///
/// # Panics in the executor
/// As a `throw` in a JavaScript executor rejects the promise instead of
/// reaching the caller, a panic in `executor` does not unwind out of
/// `promise`: it is caught, and if the executor had not resolved yet the
/// future completes with `Err(`[`BrokenPromise`]`)` (its resolver was
/// dropped unresolved); a panic after `resolve` is ignored, as JavaScript
/// ignores a throw after `resolve`. The panic hook still reports the panic
/// (stderr by default). To get the panic message as the rejection, use
/// [`try_promise`].
///
/// ```
/// evloop::run_async(async {
///     let p = evloop::promise(|_resolve: evloop::Resolver<u32>| panic!("boom"));
///     assert_eq!(p.await, Err(evloop::BrokenPromise));
/// });
/// ```
///
/// A callback API made awaitable:
///
/// ```
/// use std::time::Duration;
/// fn delay(ms: u64) -> evloop::Deferred<()> {
///     evloop::promise(|resolve| {
///         evloop::set_timeout(ms, move || resolve.resolve(()));
///     })
/// }
/// evloop::run_async(async {
///     delay(5).await.unwrap();
/// });
/// ```
pub fn promise<T>(executor: impl FnOnce(Resolver<T>)) -> Deferred<T> {
    let (resolver, value) = deferred();
    // An unwind drops the resolver, which settles the one-shot as broken
    // unless the executor resolved it first.
    drop(catch_unwind(AssertUnwindSafe(move || executor(resolver))));
    value
}

/// [`promise`] for a fallible value, `new Promise((resolve, reject) => ..)`
/// with `reject(e)` as `resolve(Err(e))`, whose executor's panic becomes the
/// rejection: if `executor` panics before resolving, the future completes
/// with `Ok(Err(E::from(`[`ExecutorPanic`]`)))`, which carries the panic
/// message, as a `throw` in a JavaScript executor rejects the promise with
/// the thrown error. A panic after `resolve` is ignored (the first
/// settlement counts). The panic hook still reports the panic.
///
/// `E` can be [`ExecutorPanic`] itself, `String` (the message), or
/// `Box<dyn Error>`.
///
/// ```
/// evloop::run_async(async {
///     let p = evloop::try_promise(|resolve: evloop::Resolver<Result<u32, String>>| {
///         if true {
///             panic!("boom");
///         }
///         resolve.resolve(Ok(1));
///     });
///     assert_eq!(p.await, Ok(Err("boom".to_string())));
/// });
/// ```
pub fn try_promise<T, E: From<ExecutorPanic>>(
    executor: impl FnOnce(Resolver<Result<T, E>>),
) -> Deferred<Result<T, E>> {
    let (resolver, value) = deferred();
    let state = resolver.state.clone();
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || executor(resolver))) {
        let panic = ExecutorPanic {
            message: panic_message(&*payload)
                .unwrap_or("<non-string panic>")
                .to_string(),
        };
        // The dropped resolver settled the one-shot as broken unless the
        // executor resolved it: a rejection replaces only that.
        if let Some(state) = state {
            let mut st = state.borrow_mut();
            if matches!(*st, State::Broken) {
                *st = State::Resolved(Err(E::from(panic)));
            }
        }
    }
    value
}

/// The rejection of a [`try_promise`] whose executor panicked: the panic's
/// message (`"<non-string panic>"` if the payload was not a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorPanic {
    message: String,
}

impl ExecutorPanic {
    /// The panic message.
    ///
    /// ```
    /// evloop::run_async(async {
    ///     let p = evloop::try_promise(|_: evloop::Resolver<Result<(), evloop::ExecutorPanic>>| {
    ///         panic!("no {}", "luck")
    ///     });
    ///     assert_eq!(p.await.unwrap().unwrap_err().message(), "no luck");
    /// });
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ExecutorPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the promise executor panicked: {}", self.message)
    }
}

impl std::error::Error for ExecutorPanic {}

impl From<ExecutorPanic> for String {
    /// The panic message.
    fn from(p: ExecutorPanic) -> String {
        p.message
    }
}

/// The resolving side of a [`deferred`] one-shot.
///
/// Dropping it without resolving settles the [`Deferred`] with
/// [`BrokenPromise`], so an awaiting task never waits forever on a callback
/// that was lost.
pub struct Resolver<T> {
    state: Option<Rc<RefCell<State<T>>>>,
}

impl<T> Resolver<T> {
    /// Settles the one-shot with `value`. The awaiting task resumes in the
    /// microtask checkpoint after the current callback, as a promise
    /// reaction would.
    #[inline]
    pub fn resolve(mut self, value: T) {
        if let Some(state) = self.state.take() {
            settle(&state, State::Resolved(value));
        }
    }
}

impl<T> Drop for Resolver<T> {
    #[inline]
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            settle(&state, State::Broken);
        }
    }
}

#[inline]
fn settle<T>(state: &RefCell<State<T>>, to: State<T>) {
    let old = std::mem::replace(&mut *state.borrow_mut(), to);
    if let State::Pending(Some(waiter)) = old {
        waiter.wake();
    }
}

impl<T> fmt::Debug for Resolver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

/// The awaiting side of a [`deferred`] one-shot: a future of
/// `Result<T, BrokenPromise>`.
///
/// # Ordering
/// Awaiting a one-shot that is already resolved still resumes one microtask
/// later, exactly like `await` of a resolved promise in JavaScript; awaiting
/// an unresolved one resumes in the microtask right after the callback that
/// resolves it.
#[must_use = "futures do nothing unless awaited"]
pub struct Deferred<T> {
    state: Rc<RefCell<State<T>>>,
    /// Polled before: the one-tick delay is spent.
    waited: bool,
}

impl<T> fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Deferred")
    }
}

/// The [`Resolver`] of a [`Deferred`] was dropped without resolving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenPromise;

impl fmt::Display for BrokenPromise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the resolver was dropped without settling the promise")
    }
}

impl std::error::Error for BrokenPromise {}

impl<T> Unpin for Deferred<T> {}

impl<T> Future for Deferred<T> {
    type Output = Result<T, BrokenPromise>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let first = !std::mem::replace(&mut self.waited, true);
        let mut state = self.state.borrow_mut();
        match &mut *state {
            State::Pending(waiter) => {
                Waiter::register(waiter, cx);
                Poll::Pending
            }
            State::Taken => panic!("evloop: a Deferred was polled after it completed"),
            _ if first => {
                drop(state);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            settled => match std::mem::replace(settled, State::Taken) {
                State::Resolved(v) => Poll::Ready(Ok(v)),
                _ => Poll::Ready(Err(BrokenPromise)),
            },
        }
    }
}

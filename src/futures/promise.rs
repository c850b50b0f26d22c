//! The callback↔future bridge: a one-shot value that a callback resolves and
//! a future awaits, like `new Promise((resolve) => ...)` and
//! `util.promisify`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::rt::executor::Waiter;

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
/// (`util.promisify`):
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
    executor(resolver);
    value
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

//! JavaScript's promise chains: `.then`, `.catch` and `.finally` on any
//! future whose output is a `Result` (a fulfilled value or a rejection),
//! each step a task that runs without being awaited and orders its callback
//! exactly as Node orders a promise reaction.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::rt::executor::{Task, spawn_fallible, yield_now};

/// `.then`, `.catch` and `.finally` for a future of `Result<T, E>`: the
/// future is the promise, `Ok` its value, `Err` its rejection.
///
/// Every method takes the future, spawns a task that awaits it and runs the
/// callback, and returns that task: the promise the JavaScript method
/// returns. So a chain is **eager**: it starts right where it is written,
/// whether or not anything awaits it, and the next link chains on the
/// returned [`Task`]. End a chain nobody awaits (fire and forget) with
/// [`Task::detach`]; if such a chain ends in `Err`, the error is an
/// unhandled rejection with the place of the last link (the rule of
/// [`spawn_fallible`](crate::spawn_fallible), which each link is).
///
/// # Ordering
/// Each callback runs in the **microtask** queue, one tick after the
/// promise settles, never in the tick the method is called: the order of a
/// JavaScript promise reaction, after the next ticks and in FIFO order with
/// the other microtasks. The methods differ, as in Node, in when their own
/// promise (the returned task) settles, and so when the next link's callback
/// runs, one tick after that: [`then`](Thenable::then) and
/// [`catch`](Thenable::catch) settle as their callback returns;
/// [`and_then`](Thenable::and_then) one tick after the future its callback
/// returns settles, and at the earliest two ticks after the callback;
/// [`finally`](Thenable::finally) two ticks after its callback (both adopt a
/// promise). A rejection passes through `then`, and a value through `catch`,
/// one tick each, as in JavaScript. `tests/node/async/then_*.js` record
/// what Node prints; `tests/node/node_async.rs` asserts the same here.
///
/// What counts as the promise: a leaf future (`fs::promises`, a
/// [`Deferred`](crate::Deferred), [`sleep`](crate::sleep), a combinator
/// such as [`try_join_all`](crate::try_join_all)) or a [`Task`] (the promise
/// of an async function: [`spawn`](crate::spawn) is the call). An `async`
/// block or an `async fn`'s future is the *body* of an async function: its
/// code runs inside the chain's first task, so the callback runs one tick
/// sooner than a reaction to the function's own promise would. For
/// JavaScript's exact order with an async function, chain on its task:
/// `spawn(f()).then(..)` is `f().then(..)` (both forms are pinned by
/// `then_on_async_function` in `tests/node/node_async.rs`).
///
/// A panic in a callback is an uncaught panic (see
/// [`EventLoop`](crate::EventLoop)), not a rejection. With the `futures`
/// crate's `FutureExt` in scope too, `.then` is ambiguous: write
/// `Thenable::then(future, f)`.
///
/// ```
/// use evloop::Thenable;
///
/// evloop::run(|| {
///     evloop::fs::promises::read_to_string("no-such-file.txt")
///         .then(|text| println!("{} bytes", text.len()))
///         .catch(|err| eprintln!("Error reading file: {err}"))
///         .finally(|| println!("done, either way"))
///         .detach();
///     println!("Reading file...");
/// });
/// ```
pub trait Thenable<T, E>: Future<Output = Result<T, E>> + Sized + 'static {
    /// `promise.then(v => f(v))`: runs `on_fulfilled` with the value, and
    /// settles the returned task with its result. A rejection skips the
    /// callback and passes on.
    ///
    /// # Ordering
    /// `on_fulfilled` runs as a microtask one tick after `self` settles
    /// (one tick after this call if it has already settled); the returned
    /// task settles as the callback returns, so a `.then` chained on it runs
    /// one tick later. A rejection reaches the returned task one tick after
    /// `self` rejects.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use evloop::Thenable;
    ///
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let (a, b, c) = (log.clone(), log.clone(), log.clone());
    /// evloop::run(move || {
    ///     // `Promise.resolve(1).then(..).then(..)`, beside `queueMicrotask`.
    ///     evloop::promise(|resolve| resolve.resolve(1))
    ///         .then(move |v| { a.borrow_mut().push(format!("then {v}")); v + 1 })
    ///         .then(move |v| b.borrow_mut().push(format!("then {v}")))
    ///         .detach();
    ///     evloop::queue_microtask(move || c.borrow_mut().push("microtask".into()));
    /// });
    /// assert_eq!(*log.borrow(), ["then 1", "microtask", "then 2"]);
    /// ```
    #[track_caller]
    fn then<U, F>(self, on_fulfilled: F) -> Task<Result<U, E>>
    where
        F: FnOnce(T) -> U + 'static,
        T: 'static,
        U: 'static,
        E: fmt::Debug + 'static,
    {
        spawn_fallible(async move {
            let value = Reaction::new(self).await?;
            Ok(on_fulfilled(value))
        })
    }

    /// `promise.then(v => otherPromise)`: runs `on_fulfilled` with the
    /// value; it returns a future (the next promise), which the returned
    /// task adopts: it settles with that future's outcome. A rejection skips
    /// the callback and passes on.
    ///
    /// # Ordering
    /// `on_fulfilled` runs as [`then`](Thenable::then)'s does. Adopting its
    /// future costs what resolving a JavaScript promise with a promise
    /// costs: a tick for the job that calls its `.then` (the future is first
    /// polled then, in the task), and a tick for that reaction. So the
    /// returned task settles one tick after the future settles, and at the
    /// earliest two ticks after the callback: for a future that has already
    /// settled, two ticks later than [`then`](Thenable::then) returning the
    /// value would.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use evloop::Thenable;
    ///
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let (a, b) = (log.clone(), log.clone());
    /// evloop::run(move || {
    ///     // `Promise.resolve(1).then(v => Promise.resolve(v * 10)).then(..)`
    ///     evloop::promise(|resolve| resolve.resolve(1))
    ///         .and_then(|v| evloop::promise(move |resolve| resolve.resolve(v * 10)))
    ///         .then(move |v| a.borrow_mut().push(format!("adopted {v}")))
    ///         .detach();
    ///     // A chain of microtasks counts the ticks.
    ///     fn count(n: u32, log: Rc<RefCell<Vec<String>>>) {
    ///         evloop::queue_microtask(move || {
    ///             log.borrow_mut().push(format!("tick {n}"));
    ///             if n < 5 { count(n + 1, log) }
    ///         });
    ///     }
    ///     count(1, b);
    /// });
    /// assert_eq!(
    ///     *log.borrow(),
    ///     ["tick 1", "tick 2", "tick 3", "adopted 10", "tick 4", "tick 5"]
    /// );
    /// ```
    #[track_caller]
    fn and_then<U, F, P>(self, on_fulfilled: F) -> Task<Result<U, E>>
    where
        F: FnOnce(T) -> P + 'static,
        P: IntoFuture<Output = Result<U, E>>,
        P::IntoFuture: 'static,
        T: 'static,
        U: 'static,
        E: fmt::Debug + 'static,
    {
        spawn_fallible(async move {
            let value = Reaction::new(self).await?;
            let next = on_fulfilled(value).into_future();
            // NewPromiseResolveThenableJob: the tick in which JavaScript
            // calls the returned promise's `.then`.
            yield_now().await;
            Reaction::new(next).await
        })
    }

    /// `promise.catch(err => f(err))`: runs `on_rejected` with the error,
    /// and fulfils the returned task with what it returns; a value skips the
    /// callback and passes on. The returned task is always `Ok` (the error
    /// type stays `E`, so the chain goes on with `then`, `catch` or
    /// `finally`).
    ///
    /// # Ordering
    /// As [`then`](Thenable::then), with the roles of value and rejection
    /// swapped.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use evloop::Thenable;
    ///
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let (a, b) = (log.clone(), log.clone());
    /// evloop::run(move || {
    ///     // An operation that fails after 10 ms, then `.then(..).catch(..).then(..)`.
    ///     async {
    ///         evloop::sleep(10).await;
    ///         Err::<u32, String>("timer failed".to_string())
    ///     }
    ///     .then(|n| n * 2) // skipped: the rejection passes on
    ///     .catch(move |err| {
    ///         a.borrow_mut().push(format!("caught: {err}"));
    ///         0
    ///     })
    ///     .then(move |v| b.borrow_mut().push(format!("then after catch: {v}")))
    ///     .detach();
    /// });
    /// assert_eq!(*log.borrow(), ["caught: timer failed", "then after catch: 0"]);
    /// ```
    #[track_caller]
    fn catch<F>(self, on_rejected: F) -> Task<Result<T, E>>
    where
        F: FnOnce(E) -> T + 'static,
        T: 'static,
        E: fmt::Debug + 'static,
    {
        spawn_fallible(async move {
            Ok(match Reaction::new(self).await {
                Ok(value) => value,
                Err(error) => on_rejected(error),
            })
        })
    }

    /// `promise.finally(() => f())`: runs `on_finally` once `self` settles
    /// either way, and settles the returned task with the same outcome.
    ///
    /// # Ordering
    /// `on_finally` runs as [`then`](Thenable::then)'s callback does; the
    /// returned task settles two ticks after it (JavaScript's `finally`
    /// resolves its promise through `Promise.resolve(result).then(() =>
    /// value)`, a promise to adopt), so a `.then` chained on it runs three
    /// ticks after `on_finally`.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use evloop::Thenable;
    ///
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let (a, b, c) = (log.clone(), log.clone(), log.clone());
    /// evloop::run(move || {
    ///     let p = evloop::promise(|resolve| resolve.resolve("v"));
    ///     p.finally(move || a.borrow_mut().push("finally".to_string()))
    ///         .then(move |v| b.borrow_mut().push(format!("after finally: {v}")))
    ///         .detach();
    ///     fn count(n: u32, log: Rc<RefCell<Vec<String>>>) {
    ///         evloop::queue_microtask(move || {
    ///             log.borrow_mut().push(format!("tick {n}"));
    ///             if n < 4 { count(n + 1, log) }
    ///         });
    ///     }
    ///     count(1, c);
    /// });
    /// assert_eq!(
    ///     *log.borrow(),
    ///     ["finally", "tick 1", "tick 2", "tick 3", "after finally: v", "tick 4"]
    /// );
    /// ```
    #[track_caller]
    fn finally<F>(self, on_finally: F) -> Task<Result<T, E>>
    where
        F: FnOnce() + 'static,
        T: 'static,
        E: fmt::Debug + 'static,
    {
        spawn_fallible(async move {
            let outcome = Reaction::new(self).await;
            on_finally();
            // The promise `finally` returns adopts `Promise.resolve(result)
            // .then(() => value)`: that reaction, then the adoption's.
            yield_now().await;
            yield_now().await;
            outcome
        })
    }
}

impl<P, T, E> Thenable<T, E> for P where P: Future<Output = Result<T, E>> + 'static {}

pin_project_lite::pin_project! {
    /// Awaits a promise as a reaction does: never in the tick it is first
    /// polled. A future that is already complete then (an `async` block that
    /// did not wait) answers one microtask later; a settled `Task` or
    /// `Deferred` takes that tick by itself.
    struct Reaction<F: Future> {
        #[pin]
        future: F,
        polled: bool,
        ready: Option<F::Output>,
    }
}

impl<F: Future> Reaction<F> {
    fn new(future: F) -> Self {
        Reaction {
            future,
            polled: false,
            ready: None,
        }
    }
}

impl<F: Future> Future for Reaction<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if let Some(output) = this.ready.take() {
            return Poll::Ready(output);
        }
        let first = !std::mem::replace(this.polled, true);
        match this.future.poll(cx) {
            Poll::Ready(output) if first => {
                *this.ready = Some(output);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => other,
        }
    }
}

//! Async iteration: local channels, async generators, and `next().await`,
//! over the `futures_core::Stream` trait (the ecosystem's standard).
//!
//! The article's `for await (const x of gen())` becomes
//! `while let Some(x) = gen.next().await`, with `gen` a [`stream`]: an
//! async closure that yields through a [`Yielder`], the Rust form of an
//! `async function*`, lazy and one value at a time as in JavaScript.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

pub use futures_core::Stream;

use crate::rt::executor::{Task, Waiter, spawn, yield_now};

struct Chan<T> {
    queue: VecDeque<T>,
    capacity: usize,
    senders: usize,
    receiver: bool,
    recv_waiter: Option<Waiter>,
    /// Senders waiting for room, FIFO, by id so a cancelled send can leave.
    send_waiters: VecDeque<(u64, Waiter)>,
    next_id: u64,
}

impl<T> Chan<T> {
    /// Wakes the first waiting sender, if there is room for it.
    fn wake_sender(&mut self) -> Option<Waiter> {
        if self.queue.len() < self.capacity {
            self.send_waiters.pop_front().map(|(_, w)| w)
        } else {
            None
        }
    }
}

/// Creates a bounded channel between tasks of one loop: at most `capacity`
/// values wait in it (at least 1).
///
/// # Ordering
/// Values arrive in the order sent. A receiver waiting on an empty channel
/// resumes in the microtask checkpoint after the send; a sender waiting on a
/// full channel resumes after the receive that made room, in FIFO order
/// among waiting senders.
///
/// ```
/// evloop::run_async(async {
///     let (tx, mut rx) = evloop::channel(1);
///     evloop::spawn(async move {
///         for i in 0..3 {
///             tx.send(i).await.unwrap();
///         }
///     })
///     .detach();
///     let mut got = Vec::new();
///     while let Some(v) = rx.recv().await {
///         got.push(v);
///     }
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Rc::new(RefCell::new(Chan {
        queue: VecDeque::with_capacity(capacity.max(1)),
        capacity: capacity.max(1),
        senders: 1,
        receiver: true,
        recv_waiter: None,
        send_waiters: VecDeque::new(),
        next_id: 0,
    }));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// The sending half of a [`channel`]; clone it for more senders.
pub struct Sender<T> {
    chan: Rc<RefCell<Chan<T>>>,
}

/// [`Sender::send`] failed: the receiver is gone. Holds the value back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the receiver was dropped")
    }
}

impl<T: fmt::Debug> std::error::Error for SendError<T> {}

/// [`Sender::try_send`] failed; each variant holds the value back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel is at capacity, or senders wait in line ahead of this
    /// one ([`send`](Sender::send) would have waited).
    Full(T),
    /// The receiver is gone ([`send`](Sender::send) would fail too).
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }

    /// Whether the channel was full (rather than closed).
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "the channel is full",
            TrySendError::Closed(_) => "the receiver was dropped",
        })
    }
}

impl<T: fmt::Debug> std::error::Error for TrySendError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(e: SendError<T>) -> TrySendError<T> {
        TrySendError::Closed(e.0)
    }
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full. Dropping the future
    /// while it waits gives up its place (and passes on a wake-up it was
    /// given).
    ///
    /// # Errors
    /// [`SendError`] with the value if the receiver has been dropped.
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            sender: self,
            value: Some(value),
            id: None,
        }
    }

    /// Sends without waiting.
    ///
    /// # Errors
    /// With the value back: [`TrySendError::Closed`] if the receiver is
    /// gone (even with room left), else [`TrySendError::Full`] if the
    /// channel is full or other senders wait (it does not jump the line).
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut chan = self.chan.borrow_mut();
        if !chan.receiver {
            return Err(TrySendError::Closed(value));
        }
        if chan.queue.len() >= chan.capacity || !chan.send_waiters.is_empty() {
            return Err(TrySendError::Full(value));
        }
        chan.queue.push_back(value);
        let waiter = chan.recv_waiter.take();
        drop(chan);
        if let Some(w) = waiter {
            w.wake();
        }
        Ok(())
    }
}

/// The future of [`Sender::send`].
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a, T> {
    sender: &'a Sender<T>,
    value: Option<T>,
    /// Our place among the waiting senders, once we wait.
    id: Option<u64>,
}

impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut chan = this.sender.chan.borrow_mut();
        if !chan.receiver {
            let value = this.value.take().expect("polled after completion");
            return Poll::Ready(Err(SendError(value)));
        }
        // Room, and no earlier sender in line (or we are the one woken).
        let queued_before = match this.id {
            Some(id) => chan.send_waiters.iter().any(|(i, _)| *i == id),
            None => !chan.send_waiters.is_empty(),
        };
        if chan.queue.len() < chan.capacity && !queued_before {
            chan.queue
                .push_back(this.value.take().expect("polled after completion"));
            this.id = None;
            let waiter = chan.recv_waiter.take();
            drop(chan);
            if let Some(w) = waiter {
                w.wake();
            }
            return Poll::Ready(Ok(()));
        }
        match this.id {
            Some(id) => {
                if let Some((_, w)) = chan.send_waiters.iter_mut().find(|(i, _)| *i == id) {
                    *w = Waiter::new(cx);
                } else {
                    chan.send_waiters.push_front((id, Waiter::new(cx)));
                }
            }
            None => {
                let id = chan.next_id;
                chan.next_id += 1;
                chan.send_waiters.push_back((id, Waiter::new(cx)));
                this.id = Some(id);
            }
        }
        Poll::Pending
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        let Some(id) = self.id else {
            return;
        };
        let waiter = {
            let mut chan = self.sender.chan.borrow_mut();
            match chan.send_waiters.iter().position(|(i, _)| *i == id) {
                Some(pos) => {
                    chan.send_waiters.remove(pos);
                    None
                }
                // We were woken for room we will not use: pass it on.
                None => chan.wake_sender(),
            }
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.id.is_some())
            .finish()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.borrow_mut().senders += 1;
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waiter = {
            let mut chan = self.chan.borrow_mut();
            chan.senders -= 1;
            if chan.senders > 0 {
                return;
            }
            chan.recv_waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sender")
    }
}

/// The receiving half of a [`channel`]; also a [`Stream`].
pub struct Receiver<T> {
    chan: Rc<RefCell<Chan<T>>>,
}

impl<T> Receiver<T> {
    /// The next value; `None` once every sender is gone and the channel is
    /// empty.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut chan = self.chan.borrow_mut();
        if let Some(v) = chan.queue.pop_front() {
            let waiter = chan.wake_sender();
            drop(chan);
            if let Some(w) = waiter {
                w.wake();
            }
            return Poll::Ready(Some(v));
        }
        if chan.senders == 0 {
            return Poll::Ready(None);
        }
        Waiter::register(&mut chan.recv_waiter, cx);
        Poll::Pending
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (waiters, queued) = {
            let mut chan = self.chan.borrow_mut();
            chan.receiver = false;
            (
                std::mem::take(&mut chan.send_waiters),
                std::mem::take(&mut chan.queue),
            )
        };
        drop(queued);
        for (_, w) in waiters {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Receiver")
    }
}

struct GenState<T> {
    /// A value yielded and not yet taken.
    slot: Option<T>,
    /// The consumer asked for the next value (a `next()` is pending).
    demand: bool,
    /// The body returned.
    done: bool,
    /// The consumer dropped the generator.
    closed: bool,
    consumer: Option<Waiter>,
    producer: Option<Waiter>,
}

impl<T> GenState<T> {
    fn wake_consumer(&mut self) -> Option<Waiter> {
        self.consumer.take()
    }
}

/// An async generator (`async function*`): `body` gets a [`Yielder`] to
/// `yield` with (`co.send(v).await`); the returned [`Generator`] streams
/// what it yields.
///
/// # Ordering
/// As in JavaScript, the generator is lazy: the body does not start until
/// the first `next()`, runs (synchronously, as an async function call) until
/// its first `send` or pending `.await`, and each `send` suspends it until
/// the consumer asks for the next value. Each `next().await` takes at least
/// one microtask tick, like `await` of the promise a JavaScript generator's
/// `next()` returns.
///
/// # Stopping early (`break` out of `for await`)
/// A consumer that stops early stops the body where it is suspended, at its
/// pending `send` (or any other `.await`): the body's future is dropped
/// there, so no more of its code runs, only the destructors of its locals.
/// [`Generator::close`] is JavaScript's `return()`, which a `break` out of
/// `for await` calls: awaiting it stops the body in the same microtask tick
/// as Node runs the generator's `finally`, and resolves a tick later, when
/// Node's loop goes on after the `break`. Dropping the generator stops the
/// body at once.
///
/// A `finally` block maps to a drop guard in the body (a local whose `Drop`
/// does the cleanup): it runs when the body returns, when `close` stops it,
/// and when the generator is dropped. Two differences from JavaScript: a
/// cleanup cannot `.await` (a `finally` that awaits has no drop-guard form),
/// and a JavaScript generator that is merely abandoned never runs its
/// `finally`, while a dropped `Generator` runs the guards at the drop.
///
/// ```
/// evloop::run_async(async {
///     let mut numbers = evloop::stream(|co| async move {
///         for i in 1..=3 {
///             evloop::sleep(1).await;
///             if co.send(i).await.is_err() {
///                 return;
///             }
///         }
///     });
///     let mut sum = 0;
///     while let Some(n) = numbers.next().await {
///         sum += n;
///     }
///     assert_eq!(sum, 6);
/// });
/// ```
pub fn stream<T, F, Fut>(body: F) -> Generator<T>
where
    T: 'static,
    F: FnOnce(Yielder<T>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let state = Rc::new(RefCell::new(GenState {
        slot: None,
        demand: false,
        done: false,
        closed: false,
        consumer: None,
        producer: None,
    }));
    let s = state.clone();
    let start: Box<dyn FnOnce() -> Task<()>> = Box::new(move || {
        let co = Yielder { state: s.clone() };
        spawn(async move {
            body(co).await;
            let waiter = {
                let mut st = s.borrow_mut();
                st.done = true;
                st.wake_consumer()
            };
            if let Some(w) = waiter {
                w.wake();
            }
        })
    });
    Generator {
        state,
        start: Some(start),
        task: None,
        in_call: false,
    }
}

/// The generator body's handle: `send` is `yield`.
pub struct Yielder<T> {
    state: Rc<RefCell<GenState<T>>>,
}

impl<T> Yielder<T> {
    /// Yields `value` to the consumer and waits until it asks for the next
    /// one. If the consumer stops instead (drops or closes the generator),
    /// the body is stopped at this `send`: it never returns.
    ///
    /// # Errors
    /// [`SendError`] with the value if the consumer has already stopped when
    /// `send` is called (the body only runs then if it was spawned outside a
    /// loop and could not be stopped).
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let waiter = {
            let mut s = self.state.borrow_mut();
            if s.closed {
                return Err(SendError(value));
            }
            s.slot = Some(value);
            s.demand = false;
            s.wake_consumer()
        };
        if let Some(w) = waiter {
            w.wake();
        }
        std::future::poll_fn(|cx| {
            let mut s = self.state.borrow_mut();
            if s.closed {
                // The consumer is gone: never resume the body past its
                // `yield` (it is being stopped; see `Generator::close`).
                return Poll::Pending;
            }
            if s.demand {
                return Poll::Ready(Ok(()));
            }
            Waiter::register(&mut s.producer, cx);
            Poll::Pending
        })
        .await
    }
}

impl<T> fmt::Debug for Yielder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Yielder")
    }
}

/// The stream of an async generator made by [`stream`].
pub struct Generator<T> {
    state: Rc<RefCell<GenState<T>>>,
    start: Option<Box<dyn FnOnce() -> Task<()>>>,
    task: Option<Task<()>>,
    /// A `next()` is in progress (its one-tick delay is spent).
    in_call: bool,
}

impl<T> Generator<T> {
    /// The next value the generator yields; `None` once its body has
    /// returned. (Any [`Stream`] has the same through [`StreamNext`].)
    pub async fn next(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_gen(cx)).await
    }

    fn poll_gen(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let first = !std::mem::replace(&mut self.in_call, true);
        if first {
            let producer = {
                let mut s = self.state.borrow_mut();
                s.demand = true;
                s.producer.take()
            };
            if let Some(w) = producer {
                w.wake();
            }
            if let Some(start) = self.start.take() {
                // The body runs now, up to its first `send` or wait.
                self.task = Some(start());
            }
        }
        let mut s = self.state.borrow_mut();
        if s.slot.is_some() || s.done {
            if first {
                // Like `await` of a settled promise: one microtask later.
                drop(s);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.in_call = false;
            return Poll::Ready(s.slot.take());
        }
        Waiter::register(&mut s.consumer, cx);
        Poll::Pending
    }

    /// JavaScript's `await gen.return()`, which `break` out of `for await`
    /// calls: stops the body at its pending `yield` and resolves once it is
    /// stopped.
    ///
    /// # Ordering
    /// As in Node: one microtask tick after the call the body is stopped
    /// (its future is dropped where it waits, so the drop guards that stand
    /// for its `finally` run then), and the future resolves one tick after
    /// that. A generator whose body never started is closed without running
    /// it; one that already returned just takes the two ticks. Later
    /// `next()` calls are impossible: `close` takes the generator. (If a
    /// `next()` was given up while the body was running, e.g. under a
    /// timeout, the body is stopped at the `.await` it is on; JavaScript
    /// would let it run on to its next `yield` first.)
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let l = log.clone();
    /// evloop::run_async(async move {
    ///     // `finally { log('finally') }` as a drop guard.
    ///     struct Finally(Rc<RefCell<Vec<String>>>);
    ///     impl Drop for Finally {
    ///         fn drop(&mut self) {
    ///             self.0.borrow_mut().push("finally".into());
    ///         }
    ///     }
    ///     let g = l.clone();
    ///     let mut numbers = evloop::stream(move |co| async move {
    ///         let _finally = Finally(g.clone());
    ///         for i in 1.. {
    ///             co.send(i).await.ok();
    ///             g.borrow_mut().push(format!("resumed after {i}"));
    ///         }
    ///     });
    ///     while let Some(n) = numbers.next().await {
    ///         l.borrow_mut().push(format!("got {n}"));
    ///         if n == 2 {
    ///             break;
    ///         }
    ///     }
    ///     numbers.close().await;
    ///     l.borrow_mut().push("after loop".into());
    /// });
    /// assert_eq!(
    ///     *log.borrow(),
    ///     ["got 1", "resumed after 1", "got 2", "finally", "after loop"]
    /// );
    /// ```
    pub async fn close(mut self) {
        // `return()` resumes the body with a return completion, which it
        // awaits first (one tick).
        yield_now().await;
        self.stop();
        // `await` of the promise `return()` settled: one more tick.
        yield_now().await;
    }

    /// Stops the body where it is suspended (drops its future), or makes
    /// sure it never starts.
    fn stop(&mut self) {
        self.start = None;
        let producer = {
            let mut s = self.state.borrow_mut();
            s.closed = true;
            s.slot = None;
            s.producer.take()
        };
        let Some(task) = self.task.take() else {
            return;
        };
        if crate::rt::context::try_with_core(|_| ()).is_some() {
            // The body's destructors run here (its `finally`).
            drop(producer);
            task.abort();
        } else {
            // No loop to stop it on: let it see the closed state.
            if let Some(w) = producer {
                w.wake();
            }
            task.detach();
        }
    }
}

impl<T> Stream for Generator<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_gen(cx)
    }
}

impl<T> Unpin for Generator<T> {}

impl<T> Drop for Generator<T> {
    /// Stops the body at once, where it is suspended: no more of its code
    /// runs (its locals' destructors do).
    fn drop(&mut self) {
        self.stop();
    }
}

impl<T> fmt::Debug for Generator<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Generator")
    }
}

/// `next().await` for any unpinned [`Stream`]: the body of a
/// `for await` loop.
pub trait StreamNext: Stream + Unpin {
    /// The next item, or `None` at the end of the stream.
    fn next(&mut self) -> Next<'_, Self> {
        Next { stream: self }
    }
}

impl<S: Stream + Unpin + ?Sized> StreamNext for S {}

/// The future of [`StreamNext::next`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Next<'a, S: ?Sized> {
    stream: &'a mut S,
}

impl<S: Stream + Unpin + ?Sized> Future for Next<'_, S> {
    type Output = Option<S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.stream).poll_next(cx)
    }
}

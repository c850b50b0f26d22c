//! Async iteration: local channels, async generators, and `next().await`,
//! over the `futures_core::Stream` trait (the ecosystem's standard).
//!
//! The article's `for await (const x of gen())` becomes
//! `while let Some(x) = gen.next().await`, with `gen` a [`stream`] fed by an
//! async closure: the Rust form of an `async function*`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

pub use futures_core::Stream;

use crate::executor::{Task, Waiter, spawn};

struct Chan<T> {
    queue: VecDeque<T>,
    capacity: usize,
    senders: usize,
    receiver: bool,
    recv_waiter: Option<Waiter>,
    send_waiters: VecDeque<Waiter>,
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

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full.
    ///
    /// # Errors
    /// [`SendError`] with the value if the receiver has been dropped.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = Some(value);
        std::future::poll_fn(|cx| {
            let mut chan = self.chan.borrow_mut();
            if !chan.receiver {
                return Poll::Ready(Err(SendError(value.take().expect("sent once"))));
            }
            if chan.queue.len() < chan.capacity {
                chan.queue.push_back(value.take().expect("sent once"));
                let waiter = chan.recv_waiter.take();
                drop(chan);
                if let Some(w) = waiter {
                    w.wake();
                }
                return Poll::Ready(Ok(()));
            }
            chan.send_waiters.push_back(Waiter::new(cx));
            Poll::Pending
        })
        .await
    }

    /// Sends without waiting.
    ///
    /// # Errors
    /// [`SendError`] with the value if the channel is full or the receiver is
    /// gone.
    pub fn try_send(&self, value: T) -> Result<(), SendError<T>> {
        let mut chan = self.chan.borrow_mut();
        if !chan.receiver || chan.queue.len() >= chan.capacity {
            return Err(SendError(value));
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
            let waiter = chan.send_waiters.pop_front();
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
        for w in waiters {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Receiver")
    }
}

/// An async generator (`async function*`): `body` gets a [`Sender`] to
/// `yield` with (`tx.send(v).await`) and runs as a task; the returned
/// [`Generator`] streams what it yields. With a one-slot channel the body
/// runs one value ahead of the consumer, and a consumer that stops early
/// (drops the stream) ends the body at its next `send`.
///
/// ```
/// evloop::run_async(async {
///     let mut numbers = evloop::stream(|tx| async move {
///         for i in 1..=3 {
///             evloop::sleep(1).await;
///             if tx.send(i).await.is_err() {
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
#[track_caller]
pub fn stream<T, F, Fut>(body: F) -> Generator<T>
where
    T: 'static,
    F: FnOnce(Sender<T>) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    let (tx, rx) = channel(1);
    let task = spawn(body(tx));
    Generator { rx, _task: task }
}

/// The stream of an async generator made by [`stream`].
pub struct Generator<T> {
    rx: Receiver<T>,
    _task: Task<()>,
}

impl<T> Generator<T> {
    /// The next value the generator yields; `None` once its body has
    /// returned. (Any [`Stream`] has the same through [`StreamNext`].)
    pub async fn next(&mut self) -> Option<T> {
        self.rx.recv().await
    }
}

impl<T> Stream for Generator<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().rx.poll_recv(cx)
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

//! [`select`]: [`race`](fn@super::race) for two futures of different
//! types, answering with an [`Either`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::group::polled_after_completion;

/// One of two values: which of [`select`]'s futures completed, with its
/// output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Either<A, B> {
    /// The first future's output.
    Left(A),
    /// The second future's output.
    Right(B),
}

/// Waits for the first of two futures, of any two types: `Promise.race`
/// of two, without boxing them into one type as [`race`](fn@super::race)
/// needs. The output says which completed: [`Either::Left`] for `a`,
/// [`Either::Right`] for `b`.
///
/// # Ordering
/// Each poll polls `a`, then `b`: when both are complete at one poll (a
/// tie: at the first poll, or both settled by one callback), **`a` wins**,
/// as the earlier input wins a tie in [`race`](fn@super::race) and
/// `Promise.race`. Futures settled by two callbacks (two timers due
/// together) are no tie: the microtask drain after each callback polls the
/// task in between, so the first settled wins. An `Err` wins like an `Ok`.
///
/// The loser is **dropped (cancelled)** when `select` completes; in
/// JavaScript it runs on. Pass a spawned [`Task`](crate::Task) to let it
/// run on, or `&mut` a future that is `Unpin` to keep it.
///
/// # Rust
/// ```
/// use std::time::Duration;
/// use evloop::{Either, select, sleep};
/// evloop::run_async(async {
///     let (tx, mut rx) = evloop::channel::<String>(1);
///     evloop::spawn(async move {
///         sleep(Duration::from_millis(10)).await;
///         tx.send("hello".to_owned()).await.unwrap();
///     });
///     // A message or a timeout: two futures of different types.
///     match select(rx.recv(), sleep(Duration::from_millis(1000))).await {
///         Either::Left(msg) => assert_eq!(msg.as_deref(), Some("hello")),
///         Either::Right(()) => panic!("timed out"),
///     }
///     // Both complete at the first poll: the first argument wins.
///     let tie = select(async { 1 }, async { "two" }).await;
///     assert_eq!(tie, Either::Left(1));
/// });
/// ```
pub fn select<A: Future, B: Future>(a: A, b: B) -> Select<A, B> {
    Select {
        a: Some(a),
        b: Some(b),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`select`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Select<A, B> {
        // Both `None` once complete: the loser is dropped then.
        #[pin]
        a: Option<A>,
        #[pin]
        b: Option<B>,
    }
}

impl<A: Future, B: Future> Future for Select<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let out = match (this.a.as_mut().as_pin_mut(), this.b.as_mut().as_pin_mut()) {
            (Some(a), Some(b)) => match a.poll(cx) {
                Poll::Ready(v) => Either::Left(v),
                Poll::Pending => match b.poll(cx) {
                    Poll::Ready(v) => Either::Right(v),
                    Poll::Pending => return Poll::Pending,
                },
            },
            _ => polled_after_completion("Select"),
        };
        this.a.set(None);
        this.b.set(None);
        Poll::Ready(out)
    }
}

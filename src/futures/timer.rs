//! Timers as futures: [`sleep`], [`timeout`], [`interval`], all on the loop's
//! timer wheel (`timers/promises` in Node).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::rt::executor::Waiter;
use crate::rt::timer::{Delay, Timer, set_interval, set_timeout};

#[derive(Default)]
struct Shared {
    /// Sleep: fired (0 or 1). Interval: ticks not yet taken.
    ticks: u64,
    waiter: Option<Waiter>,
}

fn wake(shared: &RefCell<Shared>) {
    let waiter = {
        let mut s = shared.borrow_mut();
        s.ticks += 1;
        s.waiter.take()
    };
    if let Some(w) = waiter {
        w.wake();
    }
}

/// A future that completes `delay` after it was created (Node's
/// `await setTimeout(ms)` from `timers/promises`, or
/// `new Promise(r => setTimeout(r, ms))`).
///
/// # Ordering
/// The timer starts when `sleep` is called, with [`set_timeout`]'s rules
/// (the 1 ms clamp, deadline then creation order, never early). The awaiting
/// task resumes in the microtask checkpoint right after the timer fires.
/// Dropping the `Sleep` clears its timer. While pending it keeps the loop
/// alive.
///
/// # Panics
/// If no event loop is running on this thread.
///
/// ```
/// evloop::run_async(async {
///     let start = evloop::now();
///     evloop::sleep(std::time::Duration::from_millis(20)).await;
///     assert!(evloop::now() - start >= 20);
/// });
/// ```
#[track_caller]
pub fn sleep(delay: impl Into<Delay>) -> Sleep {
    let shared = Rc::new(RefCell::new(Shared::default()));
    let s = shared.clone();
    let timer = set_timeout(delay, move || wake(&s));
    Sleep { shared, timer }
}

/// The future of [`sleep`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    shared: Rc<RefCell<Shared>>,
    timer: Timer,
}

impl Sleep {
    /// The timer behind this sleep (e.g. to [`Timer::unref`] it).
    pub fn timer(&self) -> Timer {
        self.timer
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep").field("timer", &self.timer).finish()
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.shared.borrow_mut();
        if s.ticks > 0 {
            return Poll::Ready(());
        }
        Waiter::register(&mut s.waiter, cx);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.timer.clear_if_running();
    }
}

/// [`timeout`] gave up: the future did not complete in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` with a deadline: its output, or [`Elapsed`] if `delay` passes
/// first (`Promise.race([work, rejectAfter(ms)])`). On timeout the future is
/// dropped, which cancels it.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn timeout<F: Future>(delay: impl Into<Delay>, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(delay),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`timeout`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> fmt::Debug for Timeout<F> {
    /// The timer; the inner future is left out (it need not be `Debug`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("sleep", &self.sleep)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.future.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        Pin::new(this.sleep).poll(cx).map(|()| Err(Elapsed))
    }
}

/// A stream that yields every `period` (`setInterval` as an async iterator,
/// like `timers/promises` `setInterval`). Items count the ticks: 1, 2, 3...
///
/// # Ordering
/// Ticks come from [`set_interval`], so they follow its rules. Ticks that
/// fire while nobody is polling are not lost: the next polls return them
/// at once, one by one. Dropping the stream clears the interval.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn interval(period: impl Into<Delay>) -> Interval {
    let shared = Rc::new(RefCell::new(Shared::default()));
    let s = shared.clone();
    let timer = set_interval(period, move || wake(&s));
    Interval {
        shared,
        timer,
        taken: 0,
    }
}

/// The stream of [`interval`].
#[must_use = "streams do nothing unless polled"]
pub struct Interval {
    shared: Rc<RefCell<Shared>>,
    timer: Timer,
    taken: u64,
}

impl Interval {
    /// Waits for the next tick and returns its number.
    pub async fn tick(&mut self) -> u64 {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<u64> {
        let mut s = self.shared.borrow_mut();
        if s.ticks > 0 {
            s.ticks -= 1;
            self.taken += 1;
            return Poll::Ready(self.taken);
        }
        Waiter::register(&mut s.waiter, cx);
        Poll::Pending
    }

    /// The interval's timer (e.g. to [`Timer::unref`] it).
    pub fn timer(&self) -> Timer {
        self.timer
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("timer", &self.timer)
            .field("ticks", &self.taken)
            .finish()
    }
}

impl Stream for Interval {
    type Item = u64;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u64>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        self.timer.clear_if_running();
    }
}

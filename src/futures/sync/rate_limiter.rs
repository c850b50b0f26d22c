//! [`RateLimiter`]: at most so many starts in any window of time, kept as a
//! sliding-window log.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::line::Line;
use super::throttle::{Gate, Throttle, WaitTurn};

/// Sliding-window log: the times of the last `max` starts.
struct SlidingWindow {
    max: usize,
    window: u64,
    starts: VecDeque<u64>,
}

impl Gate for SlidingWindow {
    fn try_start(&mut self, now: u64) -> Result<(), u64> {
        // A start at `t` counts in the windows [s, s + window) holding it.
        while let Some(&t) = self.starts.front() {
            if now.saturating_sub(t) >= self.window {
                self.starts.pop_front();
            } else {
                break;
            }
        }
        if self.starts.len() < self.max {
            self.starts.push_back(now);
            return Ok(());
        }
        let oldest = self.starts[0];
        Err(oldest + self.window - now)
    }
}

/// Limits how often things start: never more than `max_starts` starts in
/// **any** window of length `window` (a sliding-window log, like the
/// article's `RateLimiter`).
///
/// # Ordering
/// FIFO: [`acquire`](RateLimiter::acquire) futures are served in the order
/// they were first polled; a newcomer never overtakes a waiter. The first in
/// line waits on a loop timer ([`sleep`](crate::sleep)) until the oldest
/// start in the log leaves the window, so the limiter works under virtual
/// time too. A start at time `t` counts in every window `[s, s + window)`
/// that holds `t`; so with 5 per second, starts at 0 ms allow the next ones
/// at 1000 ms. Times are the loop's high-resolution clock
/// ([`hrtime`](crate::hrtime)), so the bound holds on the real clock.
///
/// Unlike the article's class, the limiter only paces **starts**: it does
/// not wait for a job to finish before starting the next one (combine it
/// with [`limit`](crate::limit) to bound concurrency too).
///
/// # Panics
/// If `max_starts` is 0.
///
/// # JavaScript
/// ```javascript
/// const limiter = new RateLimiter(5, 1000); // 5 requests per second
/// for (let i = 1; i <= 20; i++) {
///   limiter.executeRequest(() => fetch(`https://api.example.com/items/${i}`));
/// }
/// ```
///
/// # Rust
/// ```
/// use std::time::Duration;
/// let lp = evloop::EventLoop::builder().virtual_time(true).build().unwrap();
/// let starts = lp.run_async(async {
///     let limiter = evloop::RateLimiter::new(5, Duration::from_secs(1));
///     let jobs = (0..20).map(|_| {
///         let limiter = limiter.clone();
///         async move {
///             limiter.acquire().await;
///             evloop::now() // the request would start here
///         }
///     });
///     evloop::join_all(jobs).await
/// });
/// assert_eq!(starts[..5], [0; 5]);
/// assert_eq!(starts[5..10], [1000; 5]);
/// assert_eq!(starts[15..], [3000; 5]);
/// ```
#[derive(Clone)]
pub struct RateLimiter {
    state: Rc<RefCell<Throttle<SlidingWindow>>>,
}

impl RateLimiter {
    /// At most `max_starts` starts in any window of length `window`.
    pub fn new(max_starts: usize, window: Duration) -> RateLimiter {
        assert!(
            max_starts >= 1,
            "evloop: RateLimiter::new: max_starts must be at least 1"
        );
        RateLimiter {
            state: Rc::new(RefCell::new(Throttle {
                gate: SlidingWindow {
                    max: max_starts,
                    window: u64::try_from(window.as_nanos()).unwrap_or(u64::MAX / 2),
                    starts: VecDeque::with_capacity(max_starts.min(1024)),
                },
                line: Line::default(),
            })),
        }
    }

    /// Waits until a start is allowed, in FIFO order, and records the start
    /// (at the time the future completes). The future takes its place in
    /// line at its first poll, and completes then if nobody waits and the
    /// window has room.
    ///
    /// # Panics
    /// When polled with no event loop running on this thread.
    pub fn acquire(&self) -> WaitForSlot {
        WaitForSlot(WaitTurn::new(&self.state, "RateLimiter::acquire"))
    }

    /// Records a start now if nobody waits and the window has room; `false`
    /// (and nothing recorded) otherwise.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn try_acquire(&self) -> bool {
        Throttle::try_acquire(&self.state, "RateLimiter::try_acquire")
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.state.borrow();
        f.debug_struct("RateLimiter")
            .field("max_starts", &t.gate.max)
            .field("window", &Duration::from_nanos(t.gate.window))
            .field("waiting", &t.line.waiters.len())
            .finish()
    }
}

/// The future of [`RateLimiter::acquire`]. Dropping it while it waits takes
/// it out of the line; nothing is recorded.
#[must_use = "futures do nothing unless awaited"]
pub struct WaitForSlot(WaitTurn<SlidingWindow>);

impl Future for WaitForSlot {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.poll_turn(cx)
    }
}

impl fmt::Debug for WaitForSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WaitForSlot")
    }
}

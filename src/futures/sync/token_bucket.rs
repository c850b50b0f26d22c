//! [`TokenBucket`]: bursts up to a capacity, then a steady rate, as the
//! generic cell rate algorithm.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::line::Line;
use super::throttle::{Gate, Throttle, WaitTurn};

/// A token bucket, as the generic cell rate algorithm (GCRA): one token
/// every `interval` ns, at most `capacity` saved up; `tat` is when the
/// bucket would next be empty-and-refilled ("theoretical arrival time").
struct Gcra {
    interval: u64,
    /// `(capacity - 1) * interval`: how far ahead of `tat` a start may be.
    tolerance: u64,
    tat: Option<u64>,
}

impl Gate for Gcra {
    fn try_start(&mut self, now: u64) -> Result<(), u64> {
        // The bucket starts full: the first `capacity` starts are free.
        let tat = self.tat.unwrap_or(now).max(now);
        if tat <= now + self.tolerance {
            self.tat = Some(tat + self.interval);
            Ok(())
        } else {
            Err(tat - self.tolerance - now)
        }
    }
}

/// A token bucket: holds up to `capacity` tokens, starts full, and gains
/// `refill_per_second` tokens a second (continuously); each start takes one
/// token. So it allows bursts of `capacity` starts, then a steady
/// `refill_per_second`; in any window of length `w` there are at most
/// `capacity + w × refill_per_second` starts.
///
/// # Ordering
/// FIFO, as [`RateLimiter`](crate::RateLimiter); the first in line waits on
/// a loop timer until its token is due, so it works under virtual time. Times are the loop's
/// high-resolution clock. (Internally the generic cell rate algorithm, which
/// is the same rule in integer nanoseconds; the refill interval is rounded up
/// to a whole nanosecond, so the rate is never exceeded.)
///
/// # Panics
/// If `capacity` is 0 or `refill_per_second` is not a positive finite
/// number.
///
/// # JavaScript
/// ```javascript
/// class TokenBucket {
///   constructor(capacity, refillPerSecond) { /* tokens = capacity */ }
///   async take() { /* wait until a token is there, then take it */ }
/// }
/// const bucket = new TokenBucket(5, 5);
/// await bucket.take();
/// ```
///
/// # Rust
/// ```
/// let lp = evloop::EventLoop::builder().virtual_time(true).build().unwrap();
/// let starts = lp.run_async(async {
///     let bucket = evloop::TokenBucket::new(5, 5.0);
///     let mut starts = Vec::new();
///     for _ in 0..8 {
///         bucket.acquire().await;
///         starts.push(evloop::now());
///     }
///     starts
/// });
/// // A burst of 5, then one every 200 ms.
/// assert_eq!(starts, [0, 0, 0, 0, 0, 200, 400, 600]);
/// ```
#[derive(Clone)]
pub struct TokenBucket {
    state: Rc<RefCell<Throttle<Gcra>>>,
}

impl TokenBucket {
    /// A full bucket of `capacity` tokens, refilled at `refill_per_second`.
    pub fn new(capacity: u32, refill_per_second: f64) -> TokenBucket {
        assert!(
            capacity >= 1,
            "evloop: TokenBucket::new: capacity must be at least 1"
        );
        assert!(
            refill_per_second.is_finite() && refill_per_second > 0.0,
            "evloop: TokenBucket::new: refill_per_second must be positive and finite"
        );
        let interval = (1e9 / refill_per_second)
            .ceil()
            .clamp(1.0, (u64::MAX / 4) as f64) as u64;
        let tolerance = interval
            .saturating_mul(u64::from(capacity) - 1)
            .min(u64::MAX / 4);
        TokenBucket {
            state: Rc::new(RefCell::new(Throttle {
                gate: Gcra {
                    interval,
                    tolerance,
                    tat: None,
                },
                line: Line::default(),
            })),
        }
    }

    /// Waits for a token, in FIFO order, and takes it. The future takes its
    /// place in line at its first poll, and completes then if nobody waits
    /// and a token is there.
    ///
    /// # Panics
    /// When polled with no event loop running on this thread.
    pub fn acquire(&self) -> WaitForToken {
        WaitForToken(WaitTurn::new(&self.state, "TokenBucket::acquire"))
    }

    /// Takes a token now if nobody waits and one is there; `false` (and
    /// nothing taken) otherwise.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn try_acquire(&self) -> bool {
        Throttle::try_acquire(&self.state, "TokenBucket::try_acquire")
    }
}

impl fmt::Debug for TokenBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.state.borrow();
        f.debug_struct("TokenBucket")
            .field("interval", &Duration::from_nanos(t.gate.interval))
            .field("waiting", &t.line.waiters.len())
            .finish()
    }
}

/// The future of [`TokenBucket::acquire`]. Dropping it while it waits takes
/// it out of the line; no token is taken.
#[must_use = "futures do nothing unless awaited"]
pub struct WaitForToken(WaitTurn<Gcra>);

impl Future for WaitForToken {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.poll_turn(cx)
    }
}

impl fmt::Debug for WaitForToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WaitForToken")
    }
}

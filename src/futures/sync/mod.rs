//! Concurrency control for tasks of one loop: [`Semaphore`],
//! [`limit`](fn@limit) (p-limit), and two rate limiters, [`RateLimiter`] (a
//! sliding-window log) and [`TokenBucket`].
//!
//! All of them are FIFO: whoever starts waiting first is served first, and
//! a newcomer never overtakes a waiter, even when a permit or a slot happens
//! to be free when it arrives. Waiting is cancellation-safe: dropping a
//! waiting future takes it out of the line, and if it had just been handed a
//! permit, that permit passes on to the next in line. The handles are cheap
//! to clone; clones share the same permits, slots and line.
//!
//! A future joins the line when it is **first polled** (Rust futures are
//! lazy), not when it is created. [`join_all`](crate::join_all) polls its
//! inputs in input order, so jobs handed to it line up in input order.
//!
//! Files: `semaphore.rs` has [`Semaphore`]; `limit.rs` has
//! [`limit`](fn@limit), on a semaphore; `rate_limiter.rs` has
//! [`RateLimiter`] and `token_bucket.rs` [`TokenBucket`], both on
//! `throttle.rs` (a FIFO line in front of a rule for when a start may
//! happen, waiting on loop timers); `line.rs` has the FIFO line of waiters
//! they all keep. This file only declares and re-exports them.

mod limit;
mod line;
mod rate_limiter;
mod semaphore;
mod throttle;
mod token_bucket;

pub use limit::{Limit, limit};
pub use rate_limiter::{RateLimiter, WaitForSlot};
pub use semaphore::{Acquire, Permit, Semaphore};
pub use token_bucket::{TokenBucket, WaitForToken};

//! Concurrency control for tasks of one loop: [`Semaphore`], [`limit`]
//! (p-limit), and two rate limiters, [`RateLimiter`] (a sliding-window log)
//! and [`TokenBucket`].
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

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::futures::timer::{Sleep, sleep};
use crate::rt::context::with_core;
use crate::rt::executor::Waiter;
use crate::rt::timer::TIMEOUT_MAX;

/// A FIFO line of waiters: arrival number → who to wake (taken when woken).
#[derive(Default)]
struct Line {
    waiters: BTreeMap<u64, Option<Waiter>>,
    next_id: u64,
}

impl Line {
    fn join(&mut self, cx: &Context<'_>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.waiters.insert(id, Some(Waiter::new(cx)));
        id
    }

    fn is_first(&self, id: u64) -> bool {
        self.waiters
            .first_key_value()
            .is_some_and(|(k, _)| *k == id)
    }

    /// Re-registers waiter `id`; `false` if it is no longer in line.
    fn register(&mut self, id: u64, cx: &Context<'_>) -> bool {
        match self.waiters.get_mut(&id) {
            Some(w) => {
                Waiter::register(w, cx);
                true
            }
            None => false,
        }
    }

    /// Who to wake so that the first in line looks again.
    fn wake_first(&mut self) -> Option<Waiter> {
        self.waiters
            .first_entry()
            .and_then(|mut e| e.get_mut().take())
    }
}

// ---------------------------------------------------------------------------
// Semaphore

struct SemState {
    /// Free permits. Never above zero while someone waits: a released
    /// permit goes straight to the first in line.
    permits: usize,
    line: Line,
}

/// Returns one permit: to the first in line (taken out of the line, which is
/// how it learns it has the permit), or to the pool.
fn release(state: &RefCell<SemState>) {
    let waiter = {
        let mut s = state.borrow_mut();
        match s.line.waiters.pop_first() {
            Some((_, waiter)) => waiter,
            None => {
                s.permits += 1;
                None
            }
        }
    };
    if let Some(w) = waiter {
        w.wake();
    }
}

/// A counting semaphore for tasks of one loop: at most `permits` holders at
/// once.
///
/// # Ordering
/// **FIFO**: permits go to waiters in the order their [`acquire`] futures
/// were first polled, and a new [`acquire`] (or [`try_acquire`]) never takes
/// a permit while someone is waiting. A released permit is handed straight
/// to the first waiter, which resumes in the microtask checkpoint after the
/// release (like a promise resolved by the releasing code).
///
/// A permit is released when its [`Permit`] is dropped. Dropping a waiting
/// [`Acquire`] future (cancelling it) leaves the line; if it had already been
/// handed a permit that it never saw, the permit passes on to the next
/// waiter (or back to the pool): nothing leaks, nothing is stolen.
///
/// Clones share the same permits.
///
/// [`acquire`]: Semaphore::acquire
/// [`try_acquire`]: Semaphore::try_acquire
///
/// ```
/// use evloop::Semaphore;
/// evloop::run_async(async {
///     let sem = Semaphore::new(1);
///     let first = sem.acquire().await;
///     assert!(sem.try_acquire().is_none());
///     let s = sem.clone();
///     let waiter = evloop::spawn(async move {
///         let _p = s.acquire().await; // waits for `first`
///         "got it"
///     });
///     evloop::sleep(10).await;
///     drop(first); // hands the permit to the waiter
///     assert_eq!(waiter.await, "got it");
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    state: Rc<RefCell<SemState>>,
}

impl Semaphore {
    /// A semaphore with `permits` permits (0 is allowed: then nobody gets one
    /// until [`Semaphore::add_permits`]).
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Rc::new(RefCell::new(SemState {
                permits,
                line: Line::default(),
            })),
        }
    }

    /// Waits for a permit, in FIFO order, and returns it; it is released
    /// when the [`Permit`] is dropped. The future takes its place in line at
    /// its first poll, and completes then if a permit is free and nobody
    /// waits.
    pub fn acquire(&self) -> Acquire {
        Acquire {
            state: self.state.clone(),
            stage: Stage::Start,
        }
    }

    /// A permit if one is free **and nobody is waiting** (a waiter is never
    /// overtaken); `None` otherwise.
    pub fn try_acquire(&self) -> Option<Permit> {
        let mut s = self.state.borrow_mut();
        if s.permits == 0 || !s.line.waiters.is_empty() {
            return None;
        }
        s.permits -= 1;
        Some(Permit {
            state: self.state.clone(),
        })
    }

    /// Free permits now (0 while anyone waits).
    pub fn available_permits(&self) -> usize {
        self.state.borrow().permits
    }

    /// Acquire futures waiting in line (polled, not yet served).
    pub fn waiting(&self) -> usize {
        self.state.borrow().line.waiters.len()
    }

    /// Adds `n` permits, serving waiters first, in FIFO order.
    pub fn add_permits(&self, n: usize) {
        let mut woken = Vec::new();
        {
            let mut s = self.state.borrow_mut();
            let mut left = n;
            while left > 0 {
                let Some((_, waiter)) = s.line.waiters.pop_first() else {
                    break;
                };
                woken.extend(waiter);
                left -= 1;
            }
            s.permits += left;
        }
        for w in woken {
            w.wake();
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("Semaphore")
            .field("available", &s.permits)
            .field("waiting", &s.line.waiters.len())
            .finish()
    }
}

/// A permit of a [`Semaphore`]; dropping it releases the permit (to the
/// first waiter, if any).
#[must_use = "the permit is released as soon as it is dropped"]
pub struct Permit {
    state: Rc<RefCell<SemState>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        release(&self.state);
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Permit")
    }
}

enum Stage {
    /// Not polled yet.
    Start,
    /// In line under this number.
    Waiting(u64),
    Done,
}

/// The future of [`Semaphore::acquire`]. Dropping it while it waits takes it
/// out of the line without losing or taking a permit.
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire {
    state: Rc<RefCell<SemState>>,
    stage: Stage,
}

impl Future for Acquire {
    type Output = Permit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let this = &mut *self;
        let mut s = this.state.borrow_mut();
        match this.stage {
            Stage::Start => {
                if s.permits > 0 && s.line.waiters.is_empty() {
                    s.permits -= 1;
                } else {
                    this.stage = Stage::Waiting(s.line.join(cx));
                    return Poll::Pending;
                }
            }
            Stage::Waiting(id) => {
                // Out of the line means served: the permit is ours.
                if s.line.register(id, cx) {
                    return Poll::Pending;
                }
            }
            Stage::Done => panic!("evloop: Acquire polled after it completed"),
        }
        drop(s);
        this.stage = Stage::Done;
        Poll::Ready(Permit {
            state: this.state.clone(),
        })
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if let Stage::Waiting(id) = self.stage {
            let removed = self.state.borrow_mut().line.waiters.remove(&id);
            match removed {
                // Still in line: just leave it.
                Some(waiter) => drop(waiter),
                // Served but never saw its permit: pass it on.
                None => release(&self.state),
            }
        }
    }
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Acquire")
    }
}

// ---------------------------------------------------------------------------
// limit (p-limit)

struct LimitState {
    semaphore: Semaphore,
    concurrency: usize,
    active: Cell<usize>,
    pending: Cell<usize>,
}

/// `+1` on a counter for as long as it lives.
struct Count<'a>(&'a Cell<usize>);

impl<'a> Count<'a> {
    fn new(c: &'a Cell<usize>) -> Count<'a> {
        c.set(c.get() + 1);
        Count(c)
    }
}

impl Drop for Count<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// A concurrency limiter like the `p-limit` package: jobs passed to
/// [`Limit::run`] run at most `concurrency` at a time, and start in FIFO
/// order.
///
/// # Panics
/// If `concurrency` is 0 (p-limit throws too).
///
/// # JavaScript
/// ```javascript
/// import pLimit from 'p-limit';
/// const limit = pLimit(2);
/// const results = await Promise.all(urls.map((url) => limit(() => fetch(url))));
/// ```
///
/// # Rust
/// ```
/// use std::{cell::Cell, rc::Rc};
/// evloop::run_async(async {
///     let lim = evloop::limit(2);
///     let running = Rc::new(Cell::new(0));
///     let most = Rc::new(Cell::new(0));
///     let jobs = (0..6).map(|i| {
///         let (running, most) = (running.clone(), most.clone());
///         lim.run(async move {
///             running.set(running.get() + 1);
///             most.set(most.get().max(running.get()));
///             evloop::sleep(10).await;
///             running.set(running.get() - 1);
///             i * 10
///         })
///     });
///     let results = evloop::join_all(jobs).await;
///     assert_eq!(results, [0, 10, 20, 30, 40, 50]);
///     assert_eq!(most.get(), 2);
/// });
/// ```
pub fn limit(concurrency: usize) -> Limit {
    assert!(
        concurrency >= 1,
        "evloop: limit(0): concurrency must be at least 1"
    );
    Limit {
        state: Rc::new(LimitState {
            semaphore: Semaphore::new(concurrency),
            concurrency,
            active: Cell::new(0),
            pending: Cell::new(0),
        }),
    }
}

/// The limiter made by [`limit`]. Clones share the same slots.
#[derive(Clone)]
pub struct Limit {
    state: Rc<LimitState>,
}

impl Limit {
    /// Runs `job` once fewer than `concurrency` jobs of this limiter are
    /// running, and returns its output (`limit(() => job())`).
    ///
    /// # Ordering
    /// The job joins the line when the returned future is first polled, and
    /// jobs start in that order (FIFO). A job starts within that first poll
    /// if a slot is free and nobody waits; otherwise in the microtask after a
    /// running job finishes and frees its slot. Dropping the returned future
    /// cancels the job: a waiting job leaves the line, a running one is
    /// dropped and frees its slot.
    pub fn run<F: Future>(&self, job: F) -> impl Future<Output = F::Output> + use<F> {
        let state = self.state.clone();
        async move {
            let pending = Count::new(&state.pending);
            let permit = state.semaphore.acquire().await;
            drop(pending);
            let active = Count::new(&state.active);
            let out = job.await;
            // The slot shows free before the next job starts.
            drop(active);
            drop(permit);
            out
        }
    }

    /// Jobs running now (`limit.activeCount`).
    pub fn active_count(&self) -> usize {
        self.state.active.get()
    }

    /// Jobs waiting for a slot (`limit.pendingCount`): polled at least once,
    /// not started yet.
    pub fn pending_count(&self) -> usize {
        self.state.pending.get()
    }

    /// The most jobs that run at once (`limit.concurrency`).
    pub fn concurrency(&self) -> usize {
        self.state.concurrency
    }
}

impl fmt::Debug for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limit")
            .field("concurrency", &self.state.concurrency)
            .field("active", &self.state.active.get())
            .field("pending", &self.state.pending.get())
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Rate limiters

/// A rule for when starts may happen.
trait Gate {
    /// Records a start at `now` (ns) if the rule allows one; otherwise how
    /// many ns to wait before asking again.
    fn try_start(&mut self, now: u64) -> Result<(), u64>;
}

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

/// The longest timer there is; a longer wait is done in several.
const MAX_SLEEP: Duration = Duration::from_millis(TIMEOUT_MAX as u64);

struct Throttle<G> {
    gate: G,
    line: Line,
}

fn loop_time_ns(what: &str) -> u64 {
    with_core(what, |core| core.hrtime_ns())
}

impl<G: Gate> Throttle<G> {
    fn try_acquire(state: &RefCell<Throttle<G>>, what: &str) -> bool {
        let now = loop_time_ns(what);
        let mut t = state.borrow_mut();
        t.line.waiters.is_empty() && t.gate.try_start(now).is_ok()
    }
}

/// Waiting for a start: joins the line at the first poll; the first in line
/// sleeps on a loop timer until the gate opens.
struct WaitTurn<G> {
    state: Rc<RefCell<Throttle<G>>>,
    what: &'static str,
    id: Option<u64>,
    sleep: Option<Sleep>,
    done: bool,
}

impl<G: Gate> WaitTurn<G> {
    fn new(state: &Rc<RefCell<Throttle<G>>>, what: &'static str) -> WaitTurn<G> {
        WaitTurn {
            state: state.clone(),
            what,
            id: None,
            sleep: None,
            done: false,
        }
    }

    fn poll_turn(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            panic!("evloop: {} polled after it completed", self.what);
        }
        loop {
            let now = loop_time_ns(self.what);
            let mut t = self.state.borrow_mut();
            let id = match self.id {
                Some(id) => id,
                None => {
                    if t.line.waiters.is_empty() && t.gate.try_start(now).is_ok() {
                        self.done = true;
                        return Poll::Ready(());
                    }
                    let id = t.line.join(cx);
                    self.id = Some(id);
                    id
                }
            };
            if !t.line.is_first(id) {
                t.line.register(id, cx);
                return Poll::Pending;
            }
            match t.gate.try_start(now) {
                Ok(()) => {
                    t.line.waiters.remove(&id);
                    let next = t.line.wake_first();
                    drop(t);
                    self.id = None;
                    self.done = true;
                    self.sleep = None;
                    // The next in line looks at the gate now: it may start
                    // too, or sleep until it can.
                    if let Some(w) = next {
                        w.wake();
                    }
                    return Poll::Ready(());
                }
                Err(wait) => {
                    drop(t);
                    let wait = Duration::from_nanos(wait).min(MAX_SLEEP);
                    let timer = self.sleep.get_or_insert_with(|| sleep(wait));
                    if Pin::new(timer).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    // The timer fired; a real clock may still be a hair
                    // short of the deadline, so ask the gate again.
                    self.sleep = None;
                }
            }
        }
    }
}

impl<G> Drop for WaitTurn<G> {
    fn drop(&mut self) {
        let Some(id) = self.id else {
            return;
        };
        let (removed, next) = {
            let mut t = self.state.borrow_mut();
            let first = t.line.is_first(id);
            let removed = t.line.waiters.remove(&id);
            // The new first in line must start its own wait.
            let next = if first { t.line.wake_first() } else { None };
            (removed, next)
        };
        drop(removed);
        if let Some(w) = next {
            w.wake();
        }
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
/// with [`limit`] to bound concurrency too).
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

/// A token bucket: holds up to `capacity` tokens, starts full, and gains
/// `refill_per_second` tokens a second (continuously); each start takes one
/// token. So it allows bursts of `capacity` starts, then a steady
/// `refill_per_second`; in any window of length `w` there are at most
/// `capacity + w × refill_per_second` starts.
///
/// # Ordering
/// FIFO, as [`RateLimiter`]; the first in line waits on a loop timer until
/// its token is due, so it works under virtual time. Times are the loop's
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

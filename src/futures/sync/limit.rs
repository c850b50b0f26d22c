//! [`limit`] (p-limit): runs jobs at most `concurrency` at a time, on a
//! [`Semaphore`].

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;

use super::semaphore::Semaphore;

/// What a limiter's clones and jobs share.
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

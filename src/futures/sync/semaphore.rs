//! [`Semaphore`]: a counting semaphore with a FIFO line, its [`Permit`]s and
//! the [`Acquire`] future.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::line::Line;

/// What a semaphore's clones, permits and acquire futures share.
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

/// Where an [`Acquire`] future is.
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

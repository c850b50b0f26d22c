//! The worker's exit as the parent sees it: the exit code once its exit
//! event has been delivered, and [`WorkerExit`], the future of it.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::{Deferred, Resolver, deferred};

/// The exit code once delivered, and the [`WorkerExit`] futures waiting
/// for it; shared by a worker's parent-side state and its futures.
#[derive(Default)]
pub(super) struct ExitState {
    /// Set by the exit event.
    pub(super) code: Cell<Option<i32>>,
    /// Resolved by the exit event (or dropped with the parent loop).
    pub(super) waiters: RefCell<Vec<Resolver<()>>>,
}

/// The future of [`Worker::exited`] and [`Worker::terminate`]: the worker's
/// exit code, once the parent has received its exit event (right away if it
/// already has).
///
/// Not `#[must_use]`: `worker.terminate();` acts at once, and the future is
/// only there for those who want to wait for the exit.
///
/// [`Worker::exited`]: crate::Worker::exited
/// [`Worker::terminate`]: crate::Worker::terminate
pub struct WorkerExit {
    state: Rc<ExitState>,
    wait: Option<Deferred<()>>,
}

impl WorkerExit {
    /// A future of the exit code in `state`.
    pub(super) fn new(state: Rc<ExitState>) -> WorkerExit {
        WorkerExit { state, wait: None }
    }
}

impl fmt::Debug for WorkerExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerExit")
            .field("code", &self.state.code.get())
            .finish()
    }
}

impl Future for WorkerExit {
    type Output = i32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<i32> {
        let this = &mut *self;
        loop {
            if let Some(code) = this.state.code.get() {
                return Poll::Ready(code);
            }
            match &mut this.wait {
                None => {
                    let (resolver, wait) = deferred();
                    this.state.waiters.borrow_mut().push(resolver);
                    this.wait = Some(wait);
                }
                Some(wait) => match Pin::new(wait).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(_) => this.wait = None,
                },
            }
        }
    }
}

//! [`WriteWaiter`]: the `futures-io` side of a callback-style writer (a
//! child's stdin, stdout and stderr): the task parked until the writer has
//! room or has flushed, and the failure that broke the writer, which every
//! later call reports.

use std::cell::RefCell;
use std::io;
use std::task::{Context, Poll, Waker};

/// The parked `AsyncWrite` caller and the writer's failure, if any.
#[derive(Default)]
pub(in crate::node) struct WriteWaiter {
    task: RefCell<Option<Waker>>,
    failure: RefCell<Option<(io::ErrorKind, String)>>,
}

impl WriteWaiter {
    /// Ready once `done` holds (the caller checks it again at each wake);
    /// the failure instead, once the writer has failed.
    pub(in crate::node) fn poll_until(
        &self,
        cx: &mut Context<'_>,
        done: bool,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.failure() {
            return Poll::Ready(Err(e));
        }
        if done {
            return Poll::Ready(Ok(()));
        }
        *self.task.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Wakes the parked caller: the queue shrank, or the writer ended.
    pub(in crate::node) fn wake(&self) {
        let task = self.task.borrow_mut().take();
        if let Some(w) = task {
            w.wake();
        }
    }

    /// Records why the writer broke (`write EPIPE`); the first reason stays.
    pub(in crate::node) fn fail(&self, kind: io::ErrorKind, message: String) {
        self.failure.borrow_mut().get_or_insert((kind, message));
    }

    /// The failure as an error, if the writer has failed.
    pub(in crate::node) fn failure(&self) -> Option<io::Error> {
        let f = self.failure.borrow();
        f.as_ref()
            .map(|(kind, message)| io::Error::new(*kind, message.clone()))
    }

    /// Drops the parked task without waking it (teardown).
    pub(in crate::node) fn forget(&self) {
        drop(self.task.take());
    }
}

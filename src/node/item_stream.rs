//! [`ItemStream`]: the stream forms of a callback-style reader (a child's
//! pipe, stdin) — its lines or chunks as a `Stream`, bounded.
//!
//! The reader's callbacks push each item into an [`ItemQueue`]; the
//! consumer takes them in `poll_next`. Delivery pauses once
//! [`HIGH_WATER`] items wait and resumes when fewer than half are left, so
//! a slow consumer slows the source (a child blocks on its full pipe)
//! rather than filling memory.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Items waiting for a stream's consumer before delivery pauses.
pub(in crate::node) const HIGH_WATER: usize = 64;

/// The reader behind an [`ItemStream`].
pub(in crate::node) trait Flow {
    /// Stops delivering items (the queue is full).
    fn pause(&self);
    /// Delivers items again (the queue has room).
    fn resume(&self);
    /// The consumer is gone: what the reader does with the rest.
    fn abandon(&self);
}

/// Items delivered and not yet taken, and how the input ended.
pub(in crate::node) struct ItemQueue<T> {
    items: VecDeque<T>,
    done: bool,
    /// The read error that ended the input, if one did.
    error: Option<(io::ErrorKind, String)>,
    waker: Option<Waker>,
}

impl<T> ItemQueue<T> {
    pub(in crate::node) fn new() -> Rc<RefCell<ItemQueue<T>>> {
        Rc::new(RefCell::new(ItemQueue {
            items: VecDeque::new(),
            done: false,
            error: None,
            waker: None,
        }))
    }

    /// Adds an item; pauses `flow` at the mark; wakes the consumer.
    pub(in crate::node) fn push(queue: &RefCell<ItemQueue<T>>, item: T, flow: &impl Flow) {
        let waker = {
            let mut q = queue.borrow_mut();
            q.items.push_back(item);
            if q.items.len() >= HIGH_WATER {
                flow.pause();
            }
            q.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Ends the queue: at the end of the input, or at `error` (kept for
    /// [`end_result`](ItemQueue::end_result)).
    pub(in crate::node) fn finish(queue: &RefCell<ItemQueue<T>>, error: Option<&io::Error>) {
        let waker = {
            let mut q = queue.borrow_mut();
            q.done = true;
            q.error = error.map(|e| (e.kind(), e.to_string()));
            q.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// What the end of the input reads as: nothing, or the read error.
    pub(in crate::node) fn end_result(&self) -> io::Result<()> {
        match &self.error {
            Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
            None => Ok(()),
        }
    }
}

/// The stream over an [`ItemQueue`]; dropping it abandons the reader.
pub(in crate::node) struct ItemStream<T, F: Flow> {
    pub(in crate::node) queue: Rc<RefCell<ItemQueue<T>>>,
    pub(in crate::node) flow: F,
}

impl<T, F: Flow> ItemStream<T, F> {
    /// The next item; resumes the reader once half the mark is left;
    /// `None` after the end.
    pub(in crate::node) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut q = self.queue.borrow_mut();
        if let Some(item) = q.items.pop_front() {
            if q.items.len() < HIGH_WATER / 2 {
                drop(q);
                self.flow.resume();
            }
            return Poll::Ready(Some(item));
        }
        if q.done {
            return Poll::Ready(None);
        }
        q.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// [`ItemQueue::end_result`] of this stream's queue.
    pub(in crate::node) fn end_result(&self) -> io::Result<()> {
        self.queue.borrow().end_result()
    }
}

impl<T, F: Flow> Drop for ItemStream<T, F> {
    fn drop(&mut self) {
        self.flow.abandon();
    }
}

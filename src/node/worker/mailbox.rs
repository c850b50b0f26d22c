//! The receiving end of a direction: its listener, the values that wait
//! for one, and the [`NextMessage`] futures that wait for a value.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::{Deferred, Resolver, deferred, set_immediate};

type Listener<T> = Box<dyn FnMut(T)>;

struct MailboxInner<T> {
    buffer: VecDeque<T>,
    listener: Option<Listener<T>>,
    /// Bumped whenever the listener is replaced or removed, so a listener
    /// taken out to be called is not put back over its replacement.
    generation: u64,
    ended: bool,
    flush_scheduled: bool,
    /// `next_message` futures waiting for a value (or the end).
    waiters: Vec<Resolver<()>>,
}

pub(super) struct Mailbox<T> {
    inner: RefCell<MailboxInner<T>>,
}

impl<T: 'static> Mailbox<T> {
    pub(super) fn new() -> Rc<Mailbox<T>> {
        Rc::new(Mailbox {
            inner: RefCell::new(MailboxInner {
                buffer: VecDeque::new(),
                listener: None,
                generation: 0,
                ended: false,
                flush_scheduled: false,
                waiters: Vec::new(),
            }),
        })
    }

    /// A value arrived: to the listener if there is one, else buffered for
    /// `next_message`.
    pub(super) fn push(self: &Rc<Self>, value: T) {
        let waiters = {
            let mut inner = self.inner.borrow_mut();
            if inner.ended {
                drop(inner);
                drop(value);
                return;
            }
            inner.buffer.push_back(value);
            if inner.listener.is_some() {
                Vec::new()
            } else {
                std::mem::take(&mut inner.waiters)
            }
        };
        for w in waiters {
            w.resolve(());
        }
        self.drain();
    }

    /// Hands buffered values to the listener, oldest first.
    fn drain(&self) {
        loop {
            let (listener, value, generation) = {
                let mut inner = self.inner.borrow_mut();
                if inner.listener.is_none() {
                    return;
                }
                let Some(value) = inner.buffer.pop_front() else {
                    return;
                };
                let Some(listener) = inner.listener.take() else {
                    return;
                };
                (listener, value, inner.generation)
            };
            let mut guard = Restore {
                mailbox: self,
                listener: Some(listener),
                generation,
            };
            if let Some(f) = guard.listener.as_mut() {
                f(value);
            }
        }
    }

    pub(super) fn set_listener(self: &Rc<Self>, f: Listener<T>) {
        let (old, flush) = {
            let mut inner = self.inner.borrow_mut();
            if inner.ended {
                drop(inner);
                drop(f);
                return;
            }
            inner.generation += 1;
            let old = inner.listener.replace(f);
            let flush = !inner.buffer.is_empty() && !inner.flush_scheduled;
            inner.flush_scheduled |= flush;
            (old, flush)
        };
        drop(old);
        if flush {
            // Values that waited for a listener: delivered in the check
            // phase, never from inside the call that registers it.
            let mailbox = self.clone();
            set_immediate(move || {
                mailbox.inner.borrow_mut().flush_scheduled = false;
                mailbox.drain();
            });
        }
    }

    /// No more values: drops the listener (and with `clear` the buffer) and
    /// wakes the waiters, who then see the end once the buffer is empty.
    pub(super) fn end(&self, clear: bool) {
        let (listener, buffer, waiters) = {
            let mut inner = self.inner.borrow_mut();
            inner.ended = true;
            inner.generation += 1;
            let buffer = if clear {
                std::mem::take(&mut inner.buffer)
            } else {
                VecDeque::new()
            };
            (
                inner.listener.take(),
                buffer,
                std::mem::take(&mut inner.waiters),
            )
        };
        drop(listener);
        drop(buffer);
        for w in waiters {
            w.resolve(());
        }
    }

    pub(super) fn has_listener(&self) -> bool {
        self.inner.borrow().listener.is_some()
    }
}

/// Puts a listener back after it was called (also when it panics, so a loop
/// with an uncaught-panic handler keeps it), unless it was replaced or
/// removed meanwhile.
struct Restore<'a, T: 'static> {
    mailbox: &'a Mailbox<T>,
    listener: Option<Listener<T>>,
    generation: u64,
}

impl<T: 'static> Drop for Restore<'_, T> {
    fn drop(&mut self) {
        let Ok(mut inner) = self.mailbox.inner.try_borrow_mut() else {
            return;
        };
        if inner.generation == self.generation && inner.listener.is_none() && !inner.ended {
            inner.listener = self.listener.take();
        }
        drop(inner);
        // A replaced listener is dropped here, outside the borrow.
        drop(self.listener.take());
    }
}

/// The future of [`Worker::next_message`]: the next message the worker
/// posts, or `None` once it has exited and every message was taken.
///
/// Cancel-safe: dropping it never loses a message (messages stay queued in
/// the worker's handle until a `NextMessage` takes one).
///
/// [`Worker::next_message`]: crate::Worker::next_message
pub struct NextMessage<T> {
    pub(super) mailbox: Rc<Mailbox<T>>,
    pub(super) wait: Option<Deferred<()>>,
}

impl<T> fmt::Debug for NextMessage<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NextMessage")
    }
}

impl<T> Unpin for NextMessage<T> {}

impl<T: 'static> Future for NextMessage<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        loop {
            {
                let mut inner = this.mailbox.inner.borrow_mut();
                if let Some(v) = inner.buffer.pop_front() {
                    return Poll::Ready(Some(v));
                }
                if inner.ended {
                    return Poll::Ready(None);
                }
            }
            match &mut this.wait {
                None => {
                    let (resolver, wait) = deferred();
                    this.mailbox.inner.borrow_mut().waiters.push(resolver);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_buffers_until_a_listener_and_keeps_order() {
        let _w = crate::test_watchdog::watchdog();
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        crate::run(move || {
            let mb = Mailbox::new();
            mb.push(1);
            mb.push(2);
            mb.set_listener(Box::new(move |v| g.borrow_mut().push(v)));
            // Arrives after the listener, before the flush: still in order.
            mb.push(3);
        });
        assert_eq!(*got.borrow(), [1, 2, 3]);
    }
}

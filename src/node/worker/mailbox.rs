//! The receiving end of a direction: its `'message'` listeners, the values
//! that wait for one, and the [`NextMessage`] futures that wait for a value.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::node::emitter::ListenerId;
use crate::rt::panic::DropEach;
use crate::{Deferred, LoopHandle, Resolver, deferred, set_immediate};

/// A message listener's function, called with each message by reference.
type ListenerFn<T> = Box<dyn FnMut(&T)>;

/// One `'message'` listener: a registration of `on` or `once`.
struct Listener<T> {
    id: ListenerId,
    once: bool,
    /// A once-listener that has started (a snapshot still holding it skips
    /// it).
    fired: Cell<bool>,
    f: RefCell<ListenerFn<T>>,
}

struct MailboxInner<T> {
    buffer: VecDeque<T>,
    /// In calling order.
    listeners: Vec<Rc<Listener<T>>>,
    ended: bool,
    flush_scheduled: bool,
    /// `next_message` futures waiting for a value (or the end).
    waiters: Vec<Resolver<()>>,
    /// The worker's port: its loop's handle (unreferenced), cloned and
    /// referenced into `held` while the port has a listener, as Node's port
    /// is ref'd while it has `'message'` listeners.
    keepalive: Option<LoopHandle>,
    held: Option<LoopHandle>,
}

pub(super) struct Mailbox<T> {
    inner: RefCell<MailboxInner<T>>,
}

impl<T: 'static> Mailbox<T> {
    /// A mailbox; with `keepalive` (an unreferenced handle of this thread's
    /// loop) it keeps that loop alive while it has listeners.
    pub(super) fn new(keepalive: Option<LoopHandle>) -> Rc<Mailbox<T>> {
        Rc::new(Mailbox {
            inner: RefCell::new(MailboxInner {
                buffer: VecDeque::new(),
                listeners: Vec::new(),
                ended: false,
                flush_scheduled: false,
                waiters: Vec::new(),
                keepalive,
                held: None,
            }),
        })
    }

    /// A value arrived: to the listeners if there are any, else buffered
    /// for `next_message`.
    pub(super) fn push(self: &Rc<Self>, value: T) {
        let waiters = {
            let mut inner = self.inner.borrow_mut();
            if inner.ended {
                drop(inner);
                drop(value);
                return;
            }
            inner.buffer.push_back(value);
            if inner.listeners.is_empty() {
                std::mem::take(&mut inner.waiters)
            } else {
                Vec::new()
            }
        };
        for w in waiters {
            w.resolve(());
        }
        self.drain();
    }

    /// Hands buffered values to the listeners, oldest first.
    fn drain(&self) {
        loop {
            let value = {
                let mut inner = self.inner.borrow_mut();
                if inner.listeners.is_empty() {
                    return;
                }
                let Some(value) = inner.buffer.pop_front() else {
                    return;
                };
                value
            };
            self.deliver(&value);
        }
    }

    /// Node's `emit('message', value)`: every listener registered now, in
    /// order, with the same value; a once-listener is removed before it
    /// runs. No borrow is held while a listener runs, so it may add or
    /// remove listeners (for later messages).
    fn deliver(&self, value: &T) {
        let snapshot = self.inner.borrow().listeners.clone();
        for listener in snapshot {
            if listener.once {
                if listener.fired.replace(true) {
                    continue;
                }
                self.remove(|l| Rc::ptr_eq(l, &listener));
            }
            let mut f = listener.f.borrow_mut();
            (*f)(value);
        }
    }

    /// Adds a listener (`on` or `once`) and returns its id. Values that
    /// waited for a listener are delivered in the check phase after this
    /// call, never from inside it.
    pub(super) fn add_listener(self: &Rc<Self>, once: bool, f: ListenerFn<T>) -> ListenerId {
        let id = ListenerId::next();
        let flush = {
            let mut inner = self.inner.borrow_mut();
            if inner.ended {
                drop(inner);
                drop(f);
                return id;
            }
            inner.listeners.push(Rc::new(Listener {
                id,
                once,
                fired: Cell::new(false),
                f: RefCell::new(f),
            }));
            inner.hold();
            let flush = !inner.buffer.is_empty() && !inner.flush_scheduled;
            inner.flush_scheduled |= flush;
            flush
        };
        if flush {
            let mailbox = self.clone();
            set_immediate(move || {
                mailbox.inner.borrow_mut().flush_scheduled = false;
                mailbox.drain();
            });
        }
        id
    }

    /// Removes listener `id`; whether it was there.
    pub(super) fn remove_listener(&self, id: ListenerId) -> bool {
        self.remove(|l| l.id == id)
    }

    /// Removes the last listener matching `pred` (dropped outside the
    /// borrow: its captures may reach this mailbox).
    fn remove(&self, pred: impl Fn(&Rc<Listener<T>>) -> bool) -> bool {
        let (removed, released) = {
            let mut inner = self.inner.borrow_mut();
            let Some(pos) = inner.listeners.iter().rposition(pred) else {
                return false;
            };
            let removed = inner.listeners.remove(pos);
            let released = if inner.listeners.is_empty() {
                inner.held.take()
            } else {
                None
            };
            (removed, released)
        };
        drop((removed, released));
        true
    }

    pub(super) fn listener_count(&self) -> usize {
        self.inner.borrow().listeners.len()
    }

    /// No more values: drops the listeners (and with `clear` the buffer)
    /// and wakes the waiters, who then see the end once the buffer is empty.
    pub(super) fn end(&self, clear: bool) {
        let (listeners, buffer, waiters, held) = {
            let mut inner = self.inner.borrow_mut();
            inner.ended = true;
            let buffer = if clear {
                std::mem::take(&mut inner.buffer)
            } else {
                VecDeque::new()
            };
            (
                std::mem::take(&mut inner.listeners),
                buffer,
                std::mem::take(&mut inner.waiters),
                inner.held.take(),
            )
        };
        // One by one, the waiters resolved even if a destructor panics
        // (see `DropEach`).
        let mut each = DropEach::new("a worker port's listeners and messages");
        listeners.into_iter().for_each(|f| each.drop_one(f));
        buffer.into_iter().for_each(|m| each.drop_one(m));
        each.drop_one(held);
        for w in waiters {
            w.resolve(());
        }
        each.finish();
    }
}

impl<T> MailboxInner<T> {
    /// Keeps the port's loop alive, now that it has a listener.
    fn hold(&mut self) {
        if self.held.is_none()
            && let Some(handle) = &self.keepalive
        {
            let mut handle = handle.clone();
            handle.ref_();
            self.held = Some(handle);
        }
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
            let mb = Mailbox::new(None);
            mb.push(1);
            mb.push(2);
            mb.add_listener(false, Box::new(move |v: &i32| g.borrow_mut().push(*v)));
            // Arrives after the listener, before the flush: still in order.
            mb.push(3);
        });
        assert_eq!(*got.borrow(), [1, 2, 3]);
    }
}

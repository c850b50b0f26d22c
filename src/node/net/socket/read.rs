//! Reading: from the kernel into the `data` handler (or into `unread`
//! while nobody listens), a budget of reads per event, and the `end` event
//! after EOF.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use crate::node::net::error::node_error;
use crate::node::net::handler::{Lent, call};
use crate::rt::callback::Callback;
use crate::rt::context::with_core;

use super::{HIGH_WATER, SocketInner};

/// Reads per readiness event before yielding to other sockets (libuv: 32).
const READS_PER_EVENT: usize = 32;
const READ_BUF: usize = 64 * 1024;

thread_local! {
    /// One read buffer per thread, lent to whichever socket is reading.
    static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_BUF]);
}

/// Reading stopped by a panic in a `data` handler goes on in the next
/// pending phase: the kernel may hold more data, and an edge-triggered
/// source will not report it again until the peer sends more.
struct ReadOnAfterPanic<'a>(&'a Rc<SocketInner>);

impl Drop for ReadOnAfterPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.0.read_deferred.replace(true) {
            let me = self.0.clone();
            let queued = crate::rt::context::try_with_core(move |core| {
                core.defer_pending(Callback::new(
                    move || {
                        me.read_deferred.set(false);
                        me.read_some();
                    },
                    std::panic::Location::caller(),
                ))
            });
            if queued.is_none() {
                self.0.read_deferred.set(false);
            }
        }
    }
}

impl SocketInner {
    fn listening(&self) -> bool {
        !self.paused.get() && self.on.data.borrow().is_some()
    }

    /// Hands one chunk to the `data` handler, then drains ticks and
    /// microtasks, as Node does after each chunk.
    fn emit_data(&self, chunk: &[u8]) {
        if let Some(mut lent) = Lent::take(&self.on.data) {
            lent.handler()(chunk);
        }
        crate::rt::context::try_with_core(|core| core.drain_now());
    }

    /// Delivers data that waited for a listener; then a pending `end`.
    fn deliver_unread(self: &Rc<Self>) {
        while self.listening() && !self.destroyed.get() {
            let Some(chunk) = self.unread.borrow_mut().pop_front() else {
                break;
            };
            self.unread_bytes.set(self.unread_bytes.get() - chunk.len());
            self.emit_data(&chunk);
        }
        if self.unread.borrow().is_empty() && self.eof.get() {
            self.schedule_end();
        }
    }

    /// `end` is emitted on a later tick, as Node's `endReadableNT`.
    fn schedule_end(self: &Rc<Self>) {
        if self.peer_ended.replace(true) {
            return;
        }
        let me = self.clone();
        with_core("Socket::end", |core| {
            core.push_tick(Callback::new(
                move || me.on_peer_end(),
                std::panic::Location::caller(),
            ))
        });
    }

    /// Reads until `WouldBlock`, the end, or the per-event budget. Chunks go
    /// to the `data` handler, or wait in `unread` while nobody listens (up to
    /// the high-water mark; beyond it, data stays in the kernel, which slows
    /// the peer down).
    pub(super) fn read_some(self: &Rc<Self>) {
        if self.destroyed.get() || self.eof.get() || self.connecting.get() {
            return;
        }
        let _resume = ReadOnAfterPanic(self);
        self.deliver_unread();
        for _ in 0..READS_PER_EVENT {
            if self.destroyed.get() || (!self.listening() && self.unread_bytes.get() >= HIGH_WATER)
            {
                return;
            }
            let mut buf = BUF.with(|b| std::mem::take(&mut *b.borrow_mut()));
            if buf.len() < READ_BUF {
                buf.resize(READ_BUF, 0);
            }
            let r = match self.stream.borrow_mut().as_mut() {
                Some(s) => s.read(&mut buf),
                None => Err(io::ErrorKind::NotConnected.into()),
            };
            let outcome = match r {
                Ok(0) => {
                    self.readable.set(false);
                    self.eof.set(true);
                    None
                }
                Ok(n) => {
                    self.bytes_read.set(self.bytes_read.get() + n as u64);
                    self.touch();
                    if self.listening() {
                        // The handler gets a slice of the lent buffer, which
                        // it cannot keep (`for<'a> FnMut(&'a [u8])`).
                        self.emit_data(&buf[..n]);
                    } else {
                        self.unread_bytes.set(self.unread_bytes.get() + n);
                        self.unread.borrow_mut().push_back(buf[..n].to_vec());
                    }
                    Some(Ok(()))
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable.set(false);
                    None
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => Some(Ok(())),
                Err(e) => Some(Err(e)),
            };
            BUF.with(|b| *b.borrow_mut() = buf);
            match outcome {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    self.fail(node_error(e, "read", None));
                    return;
                }
                None => {
                    if self.eof.get() {
                        self.deliver_unread();
                    }
                    return;
                }
            }
        }
        // Budget spent with data possibly left: go on next iteration.
        self.defer_read();
    }

    pub(super) fn defer_read(self: &Rc<Self>) {
        if self.read_deferred.replace(true) {
            return;
        }
        let me = self.clone();
        with_core("Socket::read", |core| {
            core.defer_pending(Callback::new(
                move || {
                    me.read_deferred.set(false);
                    me.read_some();
                },
                std::panic::Location::caller(),
            ));
        });
    }

    fn on_peer_end(self: &Rc<Self>) {
        if self.destroyed.get() {
            return;
        }
        call(&self.on.end, ());
        if !self.allow_half_open.get() {
            self.end();
        }
        self.maybe_close();
    }
}

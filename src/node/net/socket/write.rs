//! Writing: the queue, backpressure and `drain`, and FIN after `end`.

use std::io;
use std::net::Shutdown;
use std::rc::Rc;

use crate::node::net::error::node_error;
use crate::node::net::handler::call;
use crate::node::out_queue::Flush;
use crate::rt::callback::Callback;
use crate::rt::context::with_core;

use super::{HIGH_WATER, SocketInner};

impl SocketInner {
    /// Writes queued data until `WouldBlock`; then FIN if ending.
    pub(super) fn flush(self: &Rc<Self>) {
        if self.connecting.get() || self.destroyed.get() {
            return;
        }
        let (n, flushed) = match self.stream.borrow_mut().as_mut() {
            Some(s) => self.out.borrow_mut().write_to(s),
            None => return,
        };
        self.bytes_written.set(self.bytes_written.get() + n as u64);
        match flushed {
            Flush::Done => {}
            Flush::WouldBlock => return,
            Flush::Failed(e) => {
                self.fail(node_error(e, "write", None));
                return;
            }
        }
        self.touch();
        if self.ending.get() && !self.shut.get() {
            self.shut.set(true);
            if let Some(s) = self.stream.borrow().as_ref() {
                let _ = s.shutdown(Shutdown::Write);
            }
            self.maybe_close();
        }
        if self.need_drain.replace(false) && !self.destroyed.get() {
            // Never from inside `write`: Node emits `drain` on a later tick.
            let me = self.clone();
            with_core("Socket::drain", |core| {
                core.push_tick(Callback::new(
                    move || {
                        if !me.destroyed.get() && me.out.borrow().is_empty() {
                            call(&me.on.drain, ());
                        }
                    },
                    std::panic::Location::caller(),
                ))
            });
        }
    }

    pub(super) fn write(self: &Rc<Self>, data: Vec<u8>) -> bool {
        if self.destroyed.get() || self.ending.get() {
            let e = io::Error::new(
                io::ErrorKind::BrokenPipe,
                "ERR_STREAM_WRITE_AFTER_END: write after end",
            );
            let me = self.clone();
            // Node reports it on a later tick, never from inside `write`,
            // and the error destroys the socket (`close(true)` follows).
            with_core("Socket::write", |core| {
                core.push_tick(Callback::new(
                    move || {
                        if me.destroyed.get() {
                            call(&me.on.error, e);
                        } else {
                            me.fail(e);
                        }
                    },
                    std::panic::Location::caller(),
                ));
            });
            return false;
        }
        if data.is_empty() {
            return self.out.borrow().len() < HIGH_WATER;
        }
        self.out.borrow_mut().push(data);
        self.flush();
        let ok = self.out.borrow().len() < HIGH_WATER;
        if !ok {
            self.need_drain.set(true);
        }
        ok
    }

    pub(super) fn end(self: &Rc<Self>) {
        if self.ending.replace(true) {
            return;
        }
        if self.out.borrow().is_empty() {
            self.flush();
        }
    }
}

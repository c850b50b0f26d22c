//! Writing: the queue, backpressure and `drain`, and FIN after `end`.

use std::io;
use std::net::Shutdown;
use std::rc::Rc;

use crate::node::net::error::node_error;
use crate::node::net::handler::call;
use crate::rt::callback::Callback;
use crate::rt::context::with_core;

use super::{HIGH_WATER, SocketInner};

impl SocketInner {
    /// Writes queued data until `WouldBlock`; then FIN if ending.
    pub(super) fn flush(self: &Rc<Self>) {
        if self.connecting.get() || self.destroyed.get() {
            return;
        }
        loop {
            let mut queue = self.queue.borrow_mut();
            let Some(front) = queue.front() else {
                break;
            };
            let off = self.front_written.get();
            let r = match self.stream.borrow_mut().as_mut() {
                Some(s) => s.write(&front[off..]),
                None => return,
            };
            match r {
                Ok(n) => {
                    self.bytes_written.set(self.bytes_written.get() + n as u64);
                    self.queued.set(self.queued.get() - n);
                    if off + n == front.len() {
                        queue.pop_front();
                        self.front_written.set(0);
                    } else {
                        self.front_written.set(off + n);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    drop(queue);
                    self.fail(node_error(e, "write", None));
                    return;
                }
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
                        if !me.destroyed.get() && me.queued.get() == 0 {
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
            return self.queued.get() < HIGH_WATER;
        }
        self.queued.set(self.queued.get() + data.len());
        self.queue.borrow_mut().push_back(data);
        self.flush();
        let ok = self.queued.get() < HIGH_WATER;
        if !ok {
            self.need_drain.set(true);
        }
        ok
    }

    pub(super) fn end(self: &Rc<Self>) {
        if self.ending.replace(true) {
            return;
        }
        if self.queue.borrow().is_empty() {
            self.flush();
        }
    }
}

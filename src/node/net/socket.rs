//! The callback API: Node's `net.Server` and `net.Socket`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::rc::{Rc, Weak};

use crate::rt::event_loop::{Callback, Core, with_core};
use crate::rt::reactor::{Ready, Registration};
use crate::rt::timer::{Timer, set_timeout};

use super::node_error;

/// Node's default `highWaterMark` for sockets: `write` asks the caller to
/// wait for `drain` once this much is queued.
const HIGH_WATER: usize = 16 * 1024;
/// Reads per readiness event before yielding to other sockets (libuv: 32).
const READS_PER_EVENT: usize = 32;
const READ_BUF: usize = 64 * 1024;

thread_local! {
    /// One read buffer per thread, lent to whichever socket is reading.
    static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_BUF]);
}

type Handler<A> = RefCell<Option<Box<dyn FnMut(A)>>>;
type DataHandler = RefCell<Option<Box<dyn FnMut(&[u8])>>>;

fn call<A>(slot: &Handler<A>, arg: A) {
    if let Some(mut lent) = Lent::take(slot) {
        lent.0.as_mut().expect("lent")(arg);
    }
}

/// A handler taken out of its slot while it runs, so it may replace itself;
/// it goes back unless it was replaced, also when it panics. (With an
/// uncaught-panic handler the loop goes on, and the socket or server must
/// keep its handler, as a Node listener stays registered after a throw.)
struct Lent<'a, H>(Option<H>, &'a RefCell<Option<H>>);

impl<'a, H> Lent<'a, H> {
    fn take(slot: &'a RefCell<Option<H>>) -> Option<Lent<'a, H>> {
        let handler = slot.borrow_mut().take()?;
        Some(Lent(Some(handler), slot))
    }
}

impl<H> Drop for Lent<'_, H> {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.1.try_borrow_mut()
            && slot.is_none()
        {
            *slot = self.0.take();
        }
    }
}

/// Reading stopped by a panic in a `data` handler goes on in the next
/// pending phase: the kernel may hold more data, and an edge-triggered
/// source will not report it again until the peer sends more.
struct ReadOnAfterPanic<'a>(&'a Rc<SocketInner>);

impl Drop for ReadOnAfterPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.0.read_deferred.replace(true) {
            let me = self.0.clone();
            let queued = crate::rt::event_loop::try_with_core(move |core| {
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

#[derive(Default)]
struct Handlers {
    data: DataHandler,
    end: Handler<()>,
    close: Handler<bool>,
    error: Handler<io::Error>,
    drain: Handler<()>,
    connect: Handler<()>,
    timeout: Handler<()>,
}

struct SocketInner {
    stream: RefCell<Option<mio::net::TcpStream>>,
    reg: RefCell<Option<Registration>>,
    peer: Cell<Option<SocketAddr>>,
    connecting: Cell<bool>,
    /// The peer sent FIN ('end' was emitted).
    peer_ended: Cell<bool>,
    /// `end()` was called: shut down writing once the queue is flushed.
    ending: Cell<bool>,
    /// Our FIN has been sent.
    shut: Cell<bool>,
    destroyed: Cell<bool>,
    had_error: Cell<bool>,
    paused: Cell<bool>,
    /// Data may be waiting in the kernel (edge-triggered: we stopped early).
    readable: Cell<bool>,
    read_deferred: Cell<bool>,
    allow_half_open: Cell<bool>,
    queue: RefCell<VecDeque<Vec<u8>>>,
    /// Bytes of `queue[0]` already written.
    front_written: Cell<usize>,
    queued: Cell<usize>,
    need_drain: Cell<bool>,
    bytes_read: Cell<u64>,
    bytes_written: Cell<u64>,
    /// Idle timeout: the period, and the timer while armed (it fires once
    /// per idle spell; activity re-arms it).
    idle_ms: Cell<u64>,
    idle: Cell<Option<Timer>>,
    /// Data read while nobody listened (no `data` handler, or paused),
    /// delivered when a handler is set or reading resumes.
    unread: RefCell<VecDeque<Vec<u8>>>,
    unread_bytes: Cell<usize>,
    /// EOF was read; `end` waits until `unread` has been delivered.
    eof: Cell<bool>,
    referenced: Cell<bool>,
    server: RefCell<Weak<ServerInner>>,
    on: Handlers,
}

/// A TCP connection with Node's `net.Socket` events, as callbacks.
///
/// Events (`on_*` sets the one handler for an event; setting it again
/// replaces it): `data` (a chunk arrived; reading starts at once, and data
/// that arrives before a handler is set waits for it), `end` (the peer finished
/// sending), `error` (followed by `close`), `close` (the socket is fully
/// closed; runs in the close phase, with whether an error caused it),
/// `drain` (the write queue emptied after `write` returned `false`),
/// `connect` (an outgoing connection is established), `timeout` (idle for
/// the time given to [`Socket::set_timeout`]).
///
/// # Ordering
/// Readiness is handled in the poll phase: `data`, `end`, `error`, `drain`
/// and `connect` run there, each followed by the next-tick/microtask drain;
/// `close` runs in the close phase. Bytes written are sent in order and never
/// dropped while the socket lives. An open, referenced socket keeps the loop
/// alive.
///
/// Like Node's default (`allowHalfOpen: false`), when the peer ends, the
/// socket ends its side too once its queued data is written.
#[derive(Clone)]
pub struct Socket {
    inner: Rc<SocketInner>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("peer", &self.inner.peer.get())
            .field("destroyed", &self.inner.destroyed.get())
            .finish()
    }
}

impl SocketInner {
    fn new(stream: mio::net::TcpStream, connecting: bool) -> Rc<SocketInner> {
        Rc::new(SocketInner {
            peer: Cell::new(stream.peer_addr().ok()),
            stream: RefCell::new(Some(stream)),
            reg: RefCell::new(None),
            connecting: Cell::new(connecting),
            peer_ended: Cell::new(false),
            ending: Cell::new(false),
            shut: Cell::new(false),
            destroyed: Cell::new(false),
            had_error: Cell::new(false),
            paused: Cell::new(false),
            readable: Cell::new(true),
            read_deferred: Cell::new(false),
            allow_half_open: Cell::new(false),
            queue: RefCell::new(VecDeque::new()),
            front_written: Cell::new(0),
            queued: Cell::new(0),
            need_drain: Cell::new(false),
            bytes_read: Cell::new(0),
            bytes_written: Cell::new(0),
            idle_ms: Cell::new(0),
            idle: Cell::new(None),
            unread: RefCell::new(VecDeque::new()),
            unread_bytes: Cell::new(0),
            eof: Cell::new(false),
            referenced: Cell::new(true),
            server: RefCell::new(Weak::new()),
            on: Handlers::default(),
        })
    }

    fn register(self: &Rc<Self>, core: &Core) -> io::Result<()> {
        let mut stream = self.stream.borrow_mut();
        let stream = stream.as_mut().expect("a new socket has its stream");
        *self.reg.borrow_mut() = Some(Registration::new(core, stream, self.clone())?);
        Ok(())
    }

    /// Activity: restart the idle countdown (re-arming it if it fired).
    fn touch(self: &Rc<Self>) {
        match self.idle.get() {
            Some(timer) => {
                timer.refresh();
            }
            None if self.idle_ms.get() > 0 && !self.destroyed.get() => {
                self.idle
                    .set(Some(idle_timer(Rc::downgrade(self), self.idle_ms.get())));
            }
            None => {}
        }
    }

    fn listening(&self) -> bool {
        !self.paused.get() && self.on.data.borrow().is_some()
    }

    /// Hands one chunk to the `data` handler, then drains ticks and
    /// microtasks, as Node does after each chunk.
    fn emit_data(&self, chunk: &[u8]) {
        if let Some(mut lent) = Lent::take(&self.on.data) {
            lent.0.as_mut().expect("lent")(chunk);
        }
        crate::rt::event_loop::try_with_core(|core| core.drain_now());
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
    fn read_some(self: &Rc<Self>) {
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

    fn defer_read(self: &Rc<Self>) {
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

    /// Writes queued data until `WouldBlock`; then FIN if ending.
    fn flush(self: &Rc<Self>) {
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

    fn write(self: &Rc<Self>, data: Vec<u8>) -> bool {
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

    fn end(self: &Rc<Self>) {
        if self.ending.replace(true) {
            return;
        }
        if self.queue.borrow().is_empty() {
            self.flush();
        }
    }

    fn maybe_close(self: &Rc<Self>) {
        if self.peer_ended.get() && self.shut.get() {
            self.destroy();
        }
    }

    fn fail(self: &Rc<Self>, e: io::Error) {
        if self.destroyed.get() {
            return;
        }
        self.had_error.set(true);
        call(&self.on.error, e);
        self.destroy();
    }

    /// Closes now; `close` follows in the close phase.
    fn destroy(self: &Rc<Self>) {
        if self.destroyed.replace(true) {
            return;
        }
        if let Some(t) = self.idle.take() {
            t.clear_if_running();
        }
        if let Some(server) = self.server.borrow().upgrade() {
            server.connection_closed();
        }
        let stream = self.stream.borrow_mut().take();
        // Breaks the handler cycles (handlers often capture the socket
        // itself) once `close` has run, or if the loop is dropped first.
        let me = ReleaseHandlers(self.clone());
        let reg = self.reg.borrow_mut().take();
        // The close event belongs to the socket's own loop, whichever runs.
        let own = reg.as_ref().and_then(Registration::core);
        if let (Some(mut s), Some(reg)) = (stream, reg) {
            let handler = reg.deregister(&mut s);
            drop(s);
            drop(handler);
        }
        let queue = |core: &Core| {
            core.push_close(Callback::new(
                move || {
                    let had_error = me.0.had_error.get();
                    call(&me.0.on.close, had_error);
                    drop(me);
                },
                std::panic::Location::caller(),
            ));
        };
        match own {
            Some(core) => queue(&core),
            None => {
                crate::rt::event_loop::try_with_core(queue);
            }
        }
        self.queue.borrow_mut().clear();
        self.queued.set(0);
    }

    fn drop_handlers(&self) {
        let on = &self.on;
        drop((
            on.data.take(),
            on.end.take(),
            on.close.take(),
            on.error.take(),
            on.drain.take(),
            on.connect.take(),
            on.timeout.take(),
        ));
    }
}

/// Drops a socket's handlers when dropped: owned by its `close` callback,
/// which may itself be dropped unrun with the loop.
struct ReleaseHandlers(Rc<SocketInner>);

impl Drop for ReleaseHandlers {
    fn drop(&mut self) {
        self.0.drop_handlers();
    }
}

impl Ready for SocketInner {
    fn ready(self: Rc<Self>, readable: bool, writable: bool) {
        if self.destroyed.get() {
            return;
        }
        if writable && self.connecting.get() {
            let status = self
                .stream
                .borrow()
                .as_ref()
                .map(|s| (s.take_error(), s.peer_addr()));
            match status {
                Some((Ok(None), Ok(peer))) => {
                    self.connecting.set(false);
                    self.peer.set(Some(peer));
                    call(&self.on.connect, ());
                    self.flush();
                }
                Some((Ok(Some(e)) | Err(e), _)) => {
                    let target = self.peer.get();
                    self.fail(node_error(e, "connect", target));
                    return;
                }
                Some((Ok(None), Err(e))) if e.kind() == io::ErrorKind::NotConnected => {
                    return; // not yet: a spurious edge
                }
                Some((Ok(None), Err(e))) => {
                    let target = self.peer.get();
                    self.fail(node_error(e, "connect", target));
                    return;
                }
                None => return,
            }
        } else if writable {
            self.flush();
        }
        if readable {
            self.readable.set(true);
            self.read_some();
        }
    }

    fn teardown(&self) {
        // The loop is being dropped: no `close` event can run any more.
        drop(self.reg.borrow_mut().take());
        self.destroyed.set(true);
        if let Some(t) = self.idle.take() {
            t.clear_if_running();
        }
        drop(self.stream.borrow_mut().take());
        self.queue.borrow_mut().clear();
        self.queued.set(0);
        self.unread.borrow_mut().clear();
        self.unread_bytes.set(0);
        self.drop_handlers();
        // A closing server is no longer registered, but its handlers wait
        // for its last connection: let go of them too.
        let server = self.server.borrow().upgrade();
        if let Some(server) = server {
            server.teardown();
        }
    }
}

impl Socket {
    /// Sets the `data` handler: each chunk read, as it arrives. Reading
    /// starts once a handler is set (Node's flowing mode).
    pub fn on_data(&self, handler: impl FnMut(&[u8]) + 'static) -> &Socket {
        *self.inner.on.data.borrow_mut() = Some(Box::new(handler));
        if !self.inner.connecting.get() {
            self.inner.defer_read();
        }
        self
    }

    /// Sets the `end` handler: the peer will send no more data.
    pub fn on_end(&self, handler: impl FnMut(()) + 'static) -> &Socket {
        *self.inner.on.end.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `close` handler: the socket is closed; the argument says
    /// whether an error closed it. Runs in the close phase.
    pub fn on_close(&self, handler: impl FnMut(bool) + 'static) -> &Socket {
        *self.inner.on.close.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `error` handler (`close` follows). The error reads like
    /// Node's: `read ECONNRESET`, `connect ECONNREFUSED 127.0.0.1:1`.
    pub fn on_error(&self, handler: impl FnMut(io::Error) + 'static) -> &Socket {
        *self.inner.on.error.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `drain` handler: the queue emptied after [`Socket::write`]
    /// returned `false`.
    pub fn on_drain(&self, handler: impl FnMut(()) + 'static) -> &Socket {
        *self.inner.on.drain.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `connect` handler (outgoing sockets).
    pub fn on_connect(&self, handler: impl FnMut(()) + 'static) -> &Socket {
        *self.inner.on.connect.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `timeout` handler, called after [`Socket::set_timeout`]'s
    /// idle time. It only notifies: end or destroy the socket there if you
    /// want it closed.
    pub fn on_timeout(&self, handler: impl FnMut(()) + 'static) -> &Socket {
        *self.inner.on.timeout.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Queues `data` to be sent, in order, and tries to send it now.
    /// Returns `false` once `16 KiB` or more is queued: the caller should
    /// wait for `drain` (backpressure); the data is queued either way and
    /// never dropped while the socket lives. Writing after `end` or
    /// `destroy` reports an `error` (on the next tick) and returns `false`.
    pub fn write(&self, data: impl Into<Vec<u8>>) -> bool {
        self.inner.write(data.into())
    }

    /// Sends FIN once the queue is written (half-close); `close` follows
    /// when the peer has ended too.
    pub fn end(&self) {
        self.inner.end();
    }

    /// Writes `data`, then ends.
    pub fn end_with(&self, data: impl Into<Vec<u8>>) {
        self.write(data);
        self.end();
    }

    /// Closes the socket at once, dropping anything still queued; `close`
    /// follows in the close phase.
    pub fn destroy(&self) {
        self.inner.destroy();
    }

    /// Stops delivering data: up to 16 KiB more is read and kept, the rest
    /// waits in the kernel (and the peer's writes slow down) until
    /// [`Socket::resume`].
    pub fn pause(&self) {
        self.inner.paused.set(true);
    }

    /// Starts reading again after [`Socket::pause`]; data that arrived
    /// meanwhile is delivered first.
    pub fn resume(&self) {
        if self.inner.paused.replace(false) {
            self.inner.defer_read();
        }
    }

    /// Keeps the socket open for writing after the peer ends (Node's
    /// `allowHalfOpen`); by default it ends too.
    pub fn set_allow_half_open(&self, on: bool) {
        self.inner.allow_half_open.set(on);
    }

    /// Disables (or enables) Nagle's algorithm (`TCP_NODELAY`).
    ///
    /// # Errors
    /// The OS error, e.g. on a closed socket.
    pub fn set_no_delay(&self, on: bool) -> io::Result<()> {
        match self.inner.stream.borrow().as_ref() {
            Some(s) => s.set_nodelay(on),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    /// Turns TCP keep-alive probes on or off (`SO_KEEPALIVE`).
    ///
    /// # Errors
    /// The OS error, e.g. on a closed socket.
    pub fn set_keep_alive(&self, on: bool) -> io::Result<()> {
        match self.inner.stream.borrow().as_ref() {
            Some(s) => socket2::SockRef::from(s).set_keepalive(on),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    /// Calls the `timeout` handler after `ms` milliseconds without reads or
    /// writes (0 turns it off), like Node's `socket.setTimeout`.
    ///
    /// It fires once per idle spell: after it fires, the next read or write
    /// starts the countdown again.
    #[track_caller]
    pub fn set_timeout(&self, ms: u64) {
        if let Some(t) = self.inner.idle.take() {
            t.clear();
        }
        self.inner.idle_ms.set(ms);
        if ms == 0 || self.inner.destroyed.get() {
            return;
        }
        let timer = idle_timer(Rc::downgrade(&self.inner), ms);
        self.inner.idle.set(Some(timer));
    }

    /// Lets the loop exit even though this socket is open.
    pub fn unref(&self) {
        self.set_ref(false);
    }

    /// Makes the socket keep the loop alive again.
    pub fn ref_(&self) {
        self.set_ref(true);
    }

    fn set_ref(&self, on: bool) {
        self.inner.referenced.set(on);
        if let Some(reg) = &*self.inner.reg.borrow() {
            reg.set_ref(on);
        }
    }

    /// The peer's address, once connected.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.peer.get()
    }

    /// Bytes queued and not yet handed to the OS (`writableLength`).
    pub fn buffered(&self) -> usize {
        self.inner.queued.get()
    }

    /// Bytes received so far.
    pub fn bytes_read(&self) -> u64 {
        self.inner.bytes_read.get()
    }

    /// Bytes handed to the OS so far.
    pub fn bytes_written(&self) -> u64 {
        self.inner.bytes_written.get()
    }

    /// Whether the socket has been destroyed (or closed after both ends).
    pub fn destroyed(&self) -> bool {
        self.inner.destroyed.get()
    }
}

fn idle_timer(weak: Weak<SocketInner>, ms: u64) -> Timer {
    let timer = set_timeout(ms, move || {
        if let Some(inner) = weak.upgrade() {
            // Disarmed: the next activity re-arms it (`touch`).
            inner.idle.set(None);
            if !inner.destroyed.get() {
                call(&inner.on.timeout, ());
            }
        }
    });
    timer.unref();
    timer
}

/// Opens a TCP connection (`net.connect`); `on_connect` runs when it is
/// established. Writes before then are queued. A failure is an `error`
/// event such as `connect ECONNREFUSED 127.0.0.1:1`, then `close`.
///
/// # Errors
/// If the address does not resolve or the socket cannot be created.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn connect(
    addr: impl ToSocketAddrs,
    on_connect: impl FnMut(()) + 'static,
) -> io::Result<Socket> {
    let addr = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to"))?;
    let stream = mio::net::TcpStream::connect(addr)?;
    let inner = SocketInner::new(stream, true);
    inner.peer.set(Some(addr));
    *inner.on.connect.borrow_mut() = Some(Box::new(on_connect));
    with_core("net::connect", |core| inner.register(core))?;
    Ok(Socket { inner })
}

struct ServerInner {
    listener: RefCell<Option<mio::net::TcpListener>>,
    reg: RefCell<Option<Registration>>,
    on_connection: Handler<Socket>,
    on_error: Handler<io::Error>,
    on_close: Handler<()>,
    /// A spare descriptor, given up to accept (and drop) one connection when
    /// the process is out of descriptors, as libuv does.
    reserve: RefCell<Option<std::fs::File>>,
    connections: Cell<usize>,
    closing: Cell<bool>,
    closed: Cell<bool>,
    referenced: Cell<bool>,
}

/// A TCP server with Node's `net.Server` events, as callbacks.
///
/// # Ordering
/// Each accepted connection is one callback in the poll phase (followed by
/// the drain). A listening, referenced server keeps the loop alive.
///
/// # Out of descriptors
/// When `accept` fails with `EMFILE`/`ENFILE`, the server releases a spare
/// descriptor it keeps for this, accepts and closes one pending connection
/// (so the peer gets a clean close instead of hanging), takes the spare back,
/// logs a warning, and keeps serving; an `error` handler, if set, is told.
#[derive(Clone)]
pub struct Server {
    inner: Rc<ServerInner>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr())
            .finish()
    }
}

/// Creates a server that calls `on_connection` for every accepted socket
/// (`net.createServer`); call [`Server::listen`] to start it.
pub fn create_server(on_connection: impl FnMut(Socket) + 'static) -> Server {
    Server {
        inner: Rc::new(ServerInner {
            listener: RefCell::new(None),
            reg: RefCell::new(None),
            on_connection: RefCell::new(Some(Box::new(on_connection))),
            on_error: RefCell::new(None),
            on_close: RefCell::new(None),
            reserve: RefCell::new(std::fs::File::open("/dev/null").ok()),
            connections: Cell::new(0),
            closing: Cell::new(false),
            closed: Cell::new(false),
            referenced: Cell::new(true),
        }),
    }
}

impl Server {
    /// Binds and listens; port 0 picks a free port. Returns the address
    /// bound (also [`Server::local_addr`]).
    ///
    /// # Errors
    /// `listen EADDRINUSE 127.0.0.1:8080` and the like.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn listen(&self, addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
        let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on")
        })?;
        let listener =
            mio::net::TcpListener::bind(addr).map_err(|e| node_error(e, "listen", Some(addr)))?;
        self.adopt(listener)
    }

    /// Listens on an already bound `std` listener (e.g. one made with
    /// `SO_REUSEPORT` to share a port between loops).
    ///
    /// # Errors
    /// If it cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn listen_on(&self, listener: std::net::TcpListener) -> io::Result<SocketAddr> {
        listener.set_nonblocking(true)?;
        self.adopt(mio::net::TcpListener::from_std(listener))
    }

    fn adopt(&self, mut listener: mio::net::TcpListener) -> io::Result<SocketAddr> {
        let local = listener.local_addr()?;
        let reg = with_core("Server::listen", |core| {
            Registration::new(core, &mut listener, self.inner.clone())
        })?;
        *self.inner.reg.borrow_mut() = Some(reg);
        *self.inner.listener.borrow_mut() = Some(listener);
        if !self.inner.referenced.get() {
            self.set_ref(false);
        }
        Ok(local)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.listener.borrow().as_ref()?.local_addr().ok()
    }

    /// Sets the `error` handler (accept failures).
    pub fn on_error(&self, handler: impl FnMut(io::Error) + 'static) -> &Server {
        *self.inner.on_error.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Stops accepting; `on_close` runs on the next tick after the last
    /// connection it accepted is destroyed (right after this call's tick if
    /// none is open), as Node's `server.close`.
    pub fn close(&self, on_close: impl FnMut(()) + 'static) {
        *self.inner.on_close.borrow_mut() = Some(Box::new(on_close));
        if self.inner.closing.replace(true) {
            return;
        }
        let listener = self.inner.listener.borrow_mut().take();
        let reg = self.inner.reg.borrow_mut().take();
        if let (Some(mut l), Some(reg)) = (listener, reg) {
            let handler = reg.deregister(&mut l);
            drop((l, handler));
        }
        self.inner.maybe_closed();
    }

    /// Lets the loop exit even though the server listens.
    pub fn unref(&self) {
        self.set_ref(false);
    }

    /// Makes the server keep the loop alive again.
    pub fn ref_(&self) {
        self.set_ref(true);
    }

    fn set_ref(&self, on: bool) {
        self.inner.referenced.set(on);
        if let Some(reg) = &*self.inner.reg.borrow() {
            reg.set_ref(on);
        }
    }

    /// Connections accepted and not yet closed.
    pub fn connections(&self) -> usize {
        self.inner.connections.get()
    }
}

impl ServerInner {
    fn connection_closed(self: &Rc<Self>) {
        self.connections.set(self.connections.get() - 1);
        self.maybe_closed();
    }

    fn maybe_closed(self: &Rc<Self>) {
        if self.closing.get() && self.connections.get() == 0 && !self.closed.replace(true) {
            // Drops the handlers after `close` has run, or with the loop if
            // it is dropped first (they may hold the server: a cycle).
            let me = ReleaseServer(self.clone());
            // Node: on the next tick after the last connection is destroyed
            // (or after `close()` when none is open).
            with_core("Server::close", |core| {
                core.push_tick(Callback::new(
                    move || {
                        call(&me.0.on_close, ());
                        drop(me);
                    },
                    std::panic::Location::caller(),
                ));
            });
        }
    }

    /// Sheds one pending connection with the spare descriptor. Returns
    /// whether one was shed: with no descriptors, `accept` fails with
    /// `EMFILE` even when nothing is pending, so only a shed connection means
    /// trying again makes sense.
    fn accept_overloaded(&self, e: io::Error) -> bool {
        let spare = self.reserve.borrow_mut().take();
        drop(spare);
        let shed = match self.listener.borrow().as_ref().map(|l| l.accept()) {
            Some(Ok((s, _))) => {
                drop(s);
                true
            }
            _ => false,
        };
        *self.reserve.borrow_mut() = std::fs::File::open("/dev/null").ok();
        if shed {
            log::warn!(
                target: "evloop",
                "accept failed ({e}): out of file descriptors; closed one pending \
                 connection to shed load, serving on"
            );
            call(&self.on_error, node_error(e, "accept", None));
        }
        shed
    }
}

/// Drops a server's handlers when dropped.
struct ReleaseServer(Rc<ServerInner>);

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        self.0.drop_handlers();
    }
}

impl ServerInner {
    fn drop_handlers(&self) {
        drop((
            self.on_connection.take(),
            self.on_error.take(),
            self.on_close.take(),
        ));
    }
}

impl Ready for ServerInner {
    fn teardown(&self) {
        drop(self.reg.borrow_mut().take());
        self.closed.set(true);
        let listener = self.listener.borrow_mut().take();
        let reserve = self.reserve.borrow_mut().take();
        drop((listener, reserve));
        self.drop_handlers();
    }

    fn ready(self: Rc<Self>, readable: bool, _writable: bool) {
        if !readable {
            return;
        }
        loop {
            let accepted = match self.listener.borrow().as_ref() {
                Some(l) => l.accept(),
                None => return,
            };
            match accepted {
                Ok((stream, _)) => {
                    let inner = SocketInner::new(stream, false);
                    let registered = with_core("accept", |core| inner.register(core));
                    if let Err(e) = registered {
                        call(&self.on_error, node_error(e, "accept", None));
                        continue;
                    }
                    *inner.server.borrow_mut() = Rc::downgrade(&self);
                    self.connections.set(self.connections.get() + 1);
                    let socket = Socket { inner };
                    // Each connection is its own callback, with its drain.
                    let me = self.clone();
                    with_core("accept", |core| {
                        core.invoke(Callback::new(
                            move || call(&me.on_connection, socket),
                            std::panic::Location::caller(),
                        ))
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                    if !self.accept_overloaded(e) {
                        return;
                    }
                }
                Err(e) => {
                    call(&self.on_error, node_error(e, "accept", None));
                    return;
                }
            }
        }
    }
}

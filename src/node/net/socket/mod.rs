//! The callback API's socket: Node's `net.Socket`. Here: its state
//! (`SocketInner`), its handlers (the slot type and how a handler is
//! called are in `../handler.rs`), the server that accepted it (as an
//! `Acceptor`), ending and closing, the reactor's readiness, and the public
//! handle [`Socket`] with [`connect`]. Reading (into the `data` handler,
//! with the `end` that follows) is in `read.rs`; writing (the queue,
//! backpressure, FIN) in `write.rs`; connecting to a host name (the
//! lookup, the `lookup` event, trying each address) in `lookup.rs`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::rc::{Rc, Weak};
use std::time::Duration;

use crate::rt::callback::Callback;

use crate::rt::context::with_core;

use super::error::node_error;
use super::handler::{Handler, call};
use super::host::{HostPort, Resolve};
use super::stream::{Stream, connect_unix};
use crate::node::out_queue::OutQueue;
use crate::rt::core::Core;
use crate::rt::panic::DropEach;
use crate::rt::reactor::{Ready, Registration};
use crate::rt::timer::{Timer, set_timeout};

mod lookup;
mod read;
mod write;

/// Node's default `highWaterMark` for sockets: `write` asks the caller to
/// wait for `drain` once this much is queued.
const HIGH_WATER: usize = 16 * 1024;

/// The `data` handler's slot: a [`Handler`] whose argument borrows the
/// read buffer, for any lifetime.
type DataHandler = RefCell<Option<Box<dyn FnMut(&[u8])>>>;

/// The `lookup` handler's slot: the address found (or the lookup's
/// error, which `error` then gets) and the name looked up.
type LookupHandler = RefCell<Option<Box<dyn FnMut(Result<IpAddr, &io::Error>, &str)>>>;

/// The server that accepted a socket, as the socket sees it: told when the
/// connection is destroyed, and torn down with the socket when the loop is
/// dropped ([`Ready::teardown`]). A trait, implemented by the server, so
/// that the socket does not depend on the server, which creates sockets.
pub(super) trait Acceptor: Ready {
    /// One of the server's connections was destroyed: a closing server may
    /// now be closed.
    fn connection_closed(self: Rc<Self>);
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
    lookup: LookupHandler,
}

pub(super) struct SocketInner {
    stream: RefCell<Option<Stream>>,
    reg: RefCell<Option<Registration>>,
    peer: Cell<Option<SocketAddr>>,
    connecting: Cell<bool>,
    /// A looked-up name's addresses not tried yet: a failed connect tries
    /// the next (`lookup.rs`).
    untried: RefCell<VecDeque<SocketAddr>>,
    /// `TCP_NODELAY` and `SO_KEEPALIVE` asked for while the name was looked
    /// up (no stream yet): applied to each connect attempt, as Node applies
    /// `setNoDelay`/`setKeepAlive` once it has a handle.
    no_delay: Cell<Option<bool>>,
    keep_alive: Cell<Option<bool>>,
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
    out: RefCell<OutQueue>,
    need_drain: Cell<bool>,
    bytes_read: Cell<u64>,
    bytes_written: Cell<u64>,
    /// Idle timeout: the period, and the timer while armed (it fires once
    /// per idle spell; activity re-arms it).
    idle_after: Cell<Duration>,
    idle: Cell<Option<Timer>>,
    /// Data read while nobody listened (no `data` handler, or paused),
    /// delivered when a handler is set or reading resumes.
    unread: RefCell<VecDeque<Vec<u8>>>,
    unread_bytes: Cell<usize>,
    /// EOF was read; `end` waits until `unread` has been delivered.
    eof: Cell<bool>,
    referenced: Cell<bool>,
    /// The server that accepted this socket, if any. Strong: a closing
    /// server whose handles were all dropped must live to hear of its last
    /// connection and call its `close` callback (issue 19). Given up when
    /// the socket is destroyed or torn down, so it makes no lasting cycle.
    server: RefCell<Option<Rc<dyn Acceptor>>>,
    on: Handlers,
}

/// A TCP or Unix domain connection with Node's `net.Socket` events, as
/// callbacks.
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
    pub(super) inner: Rc<SocketInner>,
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
    pub(super) fn new(stream: Option<Stream>, connecting: bool) -> Rc<SocketInner> {
        Rc::new(SocketInner {
            peer: Cell::new(stream.as_ref().and_then(Stream::peer_addr)),
            stream: RefCell::new(stream),
            reg: RefCell::new(None),
            connecting: Cell::new(connecting),
            untried: RefCell::new(VecDeque::new()),
            no_delay: Cell::new(None),
            keep_alive: Cell::new(None),
            peer_ended: Cell::new(false),
            ending: Cell::new(false),
            shut: Cell::new(false),
            destroyed: Cell::new(false),
            had_error: Cell::new(false),
            paused: Cell::new(false),
            readable: Cell::new(true),
            read_deferred: Cell::new(false),
            allow_half_open: Cell::new(false),
            out: RefCell::default(),
            need_drain: Cell::new(false),
            bytes_read: Cell::new(0),
            bytes_written: Cell::new(0),
            idle_after: Cell::new(Duration::ZERO),
            idle: Cell::new(None),
            unread: RefCell::new(VecDeque::new()),
            unread_bytes: Cell::new(0),
            eof: Cell::new(false),
            referenced: Cell::new(true),
            server: RefCell::new(None),
            on: Handlers::default(),
        })
    }

    pub(super) fn register(self: &Rc<Self>, core: &Core) -> io::Result<()> {
        let mut stream = self.stream.borrow_mut();
        let stream = stream.as_mut().expect("a new socket has its stream");
        let kind = stream.kind();
        let reg = Registration::new(core, stream, self.clone(), kind)?;
        // A socket registered after a lookup may have been unref'd meanwhile.
        if !self.referenced.get() {
            reg.set_ref(false);
        }
        *self.reg.borrow_mut() = Some(reg);
        Ok(())
    }

    /// Records the server that accepted this socket, to be told when it is
    /// destroyed (see [`Acceptor`]).
    pub(super) fn set_server(&self, server: Rc<dyn Acceptor>) {
        *self.server.borrow_mut() = Some(server);
    }

    /// Activity: restart the idle countdown (re-arming it if it fired).
    fn touch(self: &Rc<Self>) {
        match self.idle.get() {
            Some(timer) => {
                let _ = timer.refresh();
            }
            None if !self.idle_after.get().is_zero() && !self.destroyed.get() => {
                self.idle
                    .set(Some(idle_timer(Rc::downgrade(self), self.idle_after.get())));
            }
            None => {}
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
        let server = self.server.borrow_mut().take();
        if let Some(server) = server {
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
                crate::rt::context::try_with_core(queue);
            }
        }
        self.out.borrow_mut().clear();
    }

    /// Drops the handlers one by one: two whose destructors panic must not
    /// abort the process (see `DropEach`).
    fn drop_handlers(&self) {
        let mut each = DropEach::new("a socket's handlers");
        self.drop_handlers_into(&mut each);
        each.finish();
    }

    fn drop_handlers_into(&self, each: &mut DropEach) {
        let on = &self.on;
        each.drop_one(on.data.take());
        each.drop_one(on.end.take());
        each.drop_one(on.close.take());
        each.drop_one(on.error.take());
        each.drop_one(on.drain.take());
        each.drop_one(on.connect.take());
        each.drop_one(on.timeout.take());
        each.drop_one(on.lookup.take());
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
            let status = self.stream.borrow().as_ref().map(Stream::connected);
            match status {
                Some(Ok(peer)) => {
                    self.connecting.set(false);
                    if peer.is_some() {
                        self.peer.set(peer);
                    }
                    call(&self.on.connect, ());
                    self.flush();
                }
                Some(Err(e)) if e.kind() == io::ErrorKind::NotConnected => {
                    return; // not yet: a spurious edge
                }
                Some(Err(e)) => {
                    let e = node_error(e, "connect", self.peer.get());
                    if self.untried.borrow().is_empty() {
                        self.fail(e);
                    } else {
                        self.connect_next(e);
                    }
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
        self.out.borrow_mut().clear();
        self.unread.borrow_mut().clear();
        self.unread_bytes.set(0);
        let mut each = DropEach::new("a socket's handlers");
        self.drop_handlers_into(&mut each);
        // A closing server is no longer registered, but its handlers wait
        // for its last connection: let go of them too.
        let server = self.server.borrow_mut().take();
        if let Some(server) = server {
            each.run(|| server.teardown());
        }
        each.finish();
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
    pub fn on_end(&self, mut handler: impl FnMut() + 'static) -> &Socket {
        *self.inner.on.end.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// Sets the `close` handler: the socket is closed; the argument says
    /// whether an error closed it. Runs in the close phase.
    pub fn on_close(&self, handler: impl FnMut(bool) + 'static) -> &Socket {
        *self.inner.on.close.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `error` handler (`close` follows). The error reads like
    /// Node's: `read ECONNRESET`, `connect ECONNREFUSED 127.0.0.1:1`,
    /// `getaddrinfo ENOTFOUND nonexistent.invalid`.
    pub fn on_error(&self, handler: impl FnMut(io::Error) + 'static) -> &Socket {
        *self.inner.on.error.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `drain` handler: the queue emptied after [`Socket::write`]
    /// returned `false`.
    pub fn on_drain(&self, mut handler: impl FnMut() + 'static) -> &Socket {
        *self.inner.on.drain.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// Sets the `lookup` handler (Node's `lookup` event): a host name given
    /// to [`connect`] was looked up. It runs in the poll phase once per
    /// address found, in the resolver's order, before the connect starts
    /// (so before `connect`), with `Ok(address)`; or once with the lookup's
    /// error, which `error` then gets on a next tick. A connect to an IP
    /// address looks nothing up and emits no `lookup`, as in Node.
    pub fn on_lookup(
        &self,
        handler: impl FnMut(Result<IpAddr, &io::Error>, &str) + 'static,
    ) -> &Socket {
        *self.inner.on.lookup.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `connect` handler (outgoing sockets).
    pub fn on_connect(&self, mut handler: impl FnMut() + 'static) -> &Socket {
        *self.inner.on.connect.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// Sets the `timeout` handler, called after [`Socket::set_timeout`]'s
    /// idle time. It only notifies: end or destroy the socket there if you
    /// want it closed.
    pub fn on_timeout(&self, mut handler: impl FnMut() + 'static) -> &Socket {
        *self.inner.on.timeout.borrow_mut() = Some(Box::new(move |()| handler()));
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

    /// Stops delivering data: reading goes on until 16 KiB or more is kept
    /// (one read takes up to 64 KiB), the rest waits in the kernel (and the
    /// peer's writes slow down) until [`Socket::resume`].
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

    /// Disables (or enables) Nagle's algorithm (`TCP_NODELAY`); does
    /// nothing on a Unix socket.
    ///
    /// While a host name given to [`connect`] is looked up there is no
    /// socket yet: the setting is kept and applied to the connection, as
    /// Node does.
    ///
    /// # Errors
    /// The OS error; `NotConnected` on a destroyed socket.
    pub fn set_no_delay(&self, on: bool) -> io::Result<()> {
        match self.inner.stream.borrow().as_ref() {
            Some(s) => s.set_nodelay(on),
            None if self.inner.destroyed.get() => Err(io::ErrorKind::NotConnected.into()),
            None => {
                self.inner.no_delay.set(Some(on));
                Ok(())
            }
        }
    }

    /// Turns TCP keep-alive probes on or off (`SO_KEEPALIVE`); does
    /// nothing on a Unix socket. During a name lookup, kept as
    /// [`Socket::set_no_delay`] keeps its setting.
    ///
    /// # Errors
    /// As [`Socket::set_no_delay`].
    pub fn set_keep_alive(&self, on: bool) -> io::Result<()> {
        match self.inner.stream.borrow().as_ref() {
            Some(s) => s.set_keepalive(on),
            None if self.inner.destroyed.get() => Err(io::ErrorKind::NotConnected.into()),
            None => {
                self.inner.keep_alive.set(Some(on));
                Ok(())
            }
        }
    }

    /// Calls the `timeout` handler after `idle` without reads or writes
    /// (`Duration::ZERO` turns it off), like Node's `socket.setTimeout`. The
    /// delay is a timer's: under 1 ms is 1 ms.
    ///
    /// It fires once per idle spell: after it fires, the next read or write
    /// starts the countdown again.
    #[track_caller]
    pub fn set_timeout(&self, idle: Duration) {
        if let Some(t) = self.inner.idle.take() {
            t.clear();
        }
        self.inner.idle_after.set(idle);
        if idle.is_zero() || self.inner.destroyed.get() {
            return;
        }
        let timer = idle_timer(Rc::downgrade(&self.inner), idle);
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

    /// The peer's address, once connected (`None` on a Unix socket).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.peer.get()
    }

    /// Bytes queued and not yet handed to the OS (`writableLength`).
    pub fn buffered(&self) -> usize {
        self.inner.out.borrow().len()
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

fn idle_timer(weak: Weak<SocketInner>, idle: Duration) -> Timer {
    let timer = set_timeout(idle, move || {
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

/// Opens a TCP connection (`net.connect(port, host)`); `on_connect` runs
/// when it is established. Writes before then are queued. A failure is an
/// `error` event such as `connect ECONNREFUSED 127.0.0.1:1`, then `close`.
///
/// `addr` is an IP address, connected to at once, or a host name with a
/// port (`("localhost", 80)`, `"localhost:80"`): the name is looked up on
/// the thread pool ([`dns::lookup_all`](crate::dns::lookup_all)), each
/// address found is a `lookup` event ([`Socket::on_lookup`]) in the poll
/// phase, then the addresses are tried in the resolver's order until one
/// connects (the error is the last one's). A name that does not resolve is
/// a `lookup` event with the error, then `error` (`getaddrinfo ENOTFOUND
/// name`) on a next tick, then `close` in the close phase, as in Node.
/// (Node 20 tries the addresses of both families alternately, 250 ms
/// apart; evloop tries them one after the other.)
///
/// ```
/// use evloop::net;
/// evloop::run(|| {
///     let server = net::create_server(|socket| socket.end_with("hi"));
///     let port = server.listen("127.0.0.1:0").unwrap().port();
///     let client = net::connect(("localhost", port), || {}).unwrap();
///     client.on_lookup(|ip, host| println!("{host} is {}", ip.unwrap()));
///     client.on_data(|d| assert_eq!(d, b"hi"));
///     client.on_close(move |_| server.close(|| {}));
/// });
/// ```
///
/// # Errors
/// If `addr` is a string that is neither an address nor `name:port`
/// (`InvalidInput`), or the socket cannot be created.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn connect(
    addr: impl Into<HostPort>,
    mut on_connect: impl FnMut() + 'static,
) -> io::Result<Socket> {
    let inner = match addr.into().resolve("connect")? {
        Resolve::Ip(addr) => {
            let stream = mio::net::TcpStream::connect(addr)?;
            let inner = SocketInner::new(Some(Stream::Tcp(stream)), true);
            inner.peer.set(Some(addr));
            with_core("net::connect", |core| inner.register(core))?;
            inner
        }
        Resolve::Name(host, port) => {
            let inner = SocketInner::new(None, true);
            inner.look_up(host, port);
            inner
        }
    };
    *inner.on.connect.borrow_mut() = Some(Box::new(move |()| on_connect()));
    Ok(Socket { inner })
}

/// Opens a Unix domain socket connection to the socket file at `path`
/// (`net.connect(path)`), with the same events and order as a TCP
/// [`Socket`]: `on_connect` runs when it is established, and writes before
/// then are queued. A failure is an `error` event, such as
/// `connect ENOENT /tmp/x.sock` (no such file) or
/// `connect ECONNREFUSED /tmp/x.sock` (nobody listens there), on the next
/// tick (Node: in the next pending phase), then `close` in the close phase.
///
/// ```
/// use evloop::{EventLoop, net};
/// let path = std::env::temp_dir().join(format!("evloop-doc-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// EventLoop::new().unwrap().run_main(|| {
///     let server = net::create_server(|socket| socket.end_with("hi"));
///     server.listen_path(&path).unwrap();
///     let client = net::connect_path(&path, || {}).unwrap();
///     client.on_data(|d| assert_eq!(d, b"hi"));
///     client.on_close(move |_| server.close(|| {}));
/// });
/// assert!(!path.exists(), "closing the server removed the socket file");
/// ```
///
/// # Errors
/// A path longer than 107 bytes (`connect ENAMETOOLONG: ...`), at once.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn connect_path(
    path: impl AsRef<Path>,
    mut on_connect: impl FnMut() + 'static,
) -> io::Result<Socket> {
    let path = path.as_ref();
    let inner = match connect_unix(path) {
        Ok(stream) => {
            let inner = SocketInner::new(Some(Stream::Unix(stream)), true);
            with_core("net::connect_path", |core| inner.register(core))?;
            inner
        }
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => return Err(e),
        Err(e) => {
            // Node reports a failed connect as an event, never by throwing.
            let inner = SocketInner::new(None, true);
            let me = inner.clone();
            let mut e = Some(e);
            with_core("net::connect_path", |core| {
                core.push_tick(Callback::new(
                    move || {
                        if let Some(e) = e.take() {
                            me.fail(e);
                        }
                    },
                    std::panic::Location::caller(),
                ))
            });
            inner
        }
    };
    *inner.on.connect.borrow_mut() = Some(Box::new(move |()| on_connect()));
    Ok(Socket { inner })
}

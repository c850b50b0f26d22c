//! UDP, Node's `dgram` module, in both of evloop's styles: the callback
//! [`Socket`] (Node's `dgram.Socket`: `listening`, `message`, `error` and
//! `close` events, `send` with a callback) and the future [`UdpSocket`]
//! (`recv_from`, `send_to`). Exported as [`crate::dgram`].
//!
//! A bound socket is registered with the reactor once; datagrams arrive in
//! the poll phase, each delivered as its own callback followed by the
//! tick/microtask drain, as libuv calls `uv_udp_recv_cb` once per datagram.
//! Registrations are edge-triggered, so reading goes on until `WouldBlock`
//! (at most 32 datagrams per event, like libuv's budget; the rest waits for
//! the next pending phase).
//!
//! Node's order, which the callback form keeps (`tests/node/dgram/`):
//! `bind` emits `listening` on a next tick queued by the call (Node looks
//! the address up first, and an IP literal's lookup answers on a next
//! tick); `send` sends on a next tick queued by the call and calls back on
//! a next tick after that; `close` emits `close` on a next tick. A host
//! name is looked up on the thread pool first, per call
//! ([`Socket::bind_host`], [`Socket::send`]), so a send to a name can leave
//! after a later send to an address, as in Node.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::panic::Location;
use std::rc::Rc;

use crate::rt::callback::Callback;
use crate::rt::context::{try_with_core, with_core};
use crate::rt::reactor::{Ready, Registration};
use crate::rt::walk::HandleKind;

use super::error::node_error;
use super::handler::{Handler, Lent, call};
use super::host::{HostPort, Resolve};
use super::io::Io;

/// Datagrams read per readiness event before yielding (libuv: 32).
const RECVS_PER_EVENT: usize = 32;
/// The largest UDP payload (65,535 − 8 − 20).
const MAX_DATAGRAM: usize = 65_507;

thread_local! {
    /// One receive buffer per thread, so that a datagram costs no
    /// allocation (or zeroing of 64 KiB).
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Puts the receive buffer back into [`BUF`] when a receive ends (also by
/// a panic in a handler).
struct GiveBack<'a>(&'a mut Vec<u8>);

impl Drop for GiveBack<'_> {
    fn drop(&mut self) {
        let buf = std::mem::take(self.0);
        BUF.with(|b| *b.borrow_mut() = buf);
    }
}

/// The address family of a socket: Node's `'udp4'` and `'udp6'`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4 (`'udp4'`).
    V4,
    /// IPv6 (`'udp6'`).
    V6,
}

impl Family {
    fn unspecified(self) -> SocketAddr {
        match self {
            Family::V4 => (Ipv4Addr::UNSPECIFIED, 0).into(),
            Family::V6 => (Ipv6Addr::UNSPECIFIED, 0).into(),
        }
    }

    /// The lookup family for a name (Node's `lookup4`/`lookup6`).
    fn lookup(self) -> crate::dns::Family {
        match self {
            Family::V4 => crate::dns::Family::V4,
            Family::V6 => crate::dns::Family::V6,
        }
    }

    fn check(self, addr: SocketAddr, op: &str) -> io::Result<()> {
        if addr.is_ipv4() == (self == Family::V4) {
            return Ok(());
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{op} EINVAL {addr}: the address is not of the socket's family ({self:?})"),
        ))
    }
}

/// Where a datagram came from (Node's `rinfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteInfo {
    /// The sender's address and port.
    pub addr: SocketAddr,
    /// The datagram's size in bytes.
    pub size: usize,
}

impl RemoteInfo {
    /// `"IPv4"` or `"IPv6"`, as Node's `rinfo.family`.
    pub fn family(&self) -> &'static str {
        if self.addr.is_ipv4() { "IPv4" } else { "IPv6" }
    }
}

type MessageHandler = RefCell<Option<Box<dyn FnMut(&[u8], RemoteInfo)>>>;
type SendCallback = Box<dyn FnOnce(io::Result<usize>)>;
/// Sends made while [`Socket::bind_host`] looks its name up.
type Waiting = Vec<(Vec<u8>, HostPort, SendCallback)>;

struct SocketInner {
    family: Family,
    sock: RefCell<Option<mio::net::UdpSocket>>,
    reg: RefCell<Option<Registration>>,
    referenced: Cell<bool>,
    closed: Cell<bool>,
    /// Datagrams the kernel would not take yet, sent when it is writable.
    unsent: RefCell<VecDeque<(Vec<u8>, SocketAddr, SendCallback)>>,
    /// While [`Socket::bind_host`] looks its name up: the sends made
    /// meanwhile, made again once it is bound (Node's send queue).
    binding: RefCell<Option<Waiting>>,
    on_listening: Handler<()>,
    on_message: MessageHandler,
    on_error: Handler<io::Error>,
    on_close: Handler<()>,
}

/// A UDP socket with Node's `dgram.Socket` events, as callbacks.
///
/// # Ordering
/// `listening` runs on a next tick queued by [`Socket::bind`]; each
/// datagram is one callback in the poll phase, followed by the drain; a
/// [`send`](Socket::send) callback runs on a next tick after the datagram
/// left (in the poll phase if the kernel had to be waited for); `close` runs
/// on a next tick queued by [`Socket::close`].
///
/// A bound socket keeps the loop alive until closed, unless
/// [`unref`](Socket::unref)'d. Cloning gives another handle to the same
/// socket.
#[derive(Clone)]
pub struct Socket {
    inner: Rc<SocketInner>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("dgram::Socket")
            .field("family", &self.inner.family)
            .field("address", &self.address())
            .finish()
    }
}

/// Creates an unbound UDP socket (`dgram.createSocket('udp4')`).
pub fn create_socket(family: Family) -> Socket {
    Socket {
        inner: Rc::new(SocketInner {
            family,
            sock: RefCell::new(None),
            reg: RefCell::new(None),
            referenced: Cell::new(true),
            closed: Cell::new(false),
            unsent: RefCell::new(VecDeque::new()),
            binding: RefCell::new(None),
            on_listening: RefCell::new(None),
            on_message: RefCell::new(None),
            on_error: RefCell::new(None),
            on_close: RefCell::new(None),
        }),
    }
}

/// Queues `f` as a next tick of the running loop.
#[track_caller]
fn tick(what: &str, f: impl FnOnce() + 'static) {
    let site = Location::caller();
    with_core(what, |core| core.push_tick(Callback::new(f, site)));
}

impl Socket {
    /// Binds to `addr` (port 0 picks a free port) and starts receiving;
    /// returns the address bound. `listening` follows on a next tick.
    ///
    /// # Errors
    /// `bind EADDRINUSE 127.0.0.1:41234` and the like, an `InvalidInput`
    /// error for an address of the other family, and Node's
    /// `ERR_SOCKET_ALREADY_BOUND` for a socket already bound or closed.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    #[track_caller]
    pub fn bind(&self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let local = self.bind_now(addr)?;
        let me = self.inner.clone();
        tick("dgram::Socket::bind", move || call(&me.on_listening, ()));
        Ok(local)
    }

    /// Binds to a host name or an IP address, as Node's
    /// `socket.bind(port, host, cb)`: a name (`("localhost", 0)`) is looked
    /// up on the thread pool (the socket's family), and the socket is bound
    /// in the poll phase that hears the answer, `listening` running there
    /// and `cb` right after it with the address bound; for an IP address,
    /// as [`Socket::bind`], with `cb` on a next tick after `listening`.
    /// Sends made while the name is looked up wait, and go (in order) after
    /// `cb`.
    ///
    /// ```
    /// use evloop::dgram::{self, Family};
    /// evloop::run(|| {
    ///     let socket = dgram::create_socket(Family::V4);
    ///     let me = socket.clone();
    ///     socket.bind_host(("localhost", 0), move |bound| {
    ///         assert!(bound.unwrap().ip().is_loopback());
    ///         me.close(|| {}).unwrap();
    ///     });
    /// });
    /// ```
    ///
    /// # Errors
    /// `cb` gets [`Socket::bind`]'s errors, `getaddrinfo ENOTFOUND name`
    /// for a name that does not resolve (Node emits these as `error`), or
    /// `ERR_SOCKET_DGRAM_NOT_RUNNING` if the socket was closed during the
    /// lookup. After a failed lookup the socket is unbound again, and the
    /// sends that waited get the same error (Node drops them silently).
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    #[track_caller]
    pub fn bind_host(
        &self,
        addr: impl Into<HostPort>,
        cb: impl FnOnce(io::Result<SocketAddr>) + 'static,
    ) {
        let (host, port) = match addr.into().resolve("bind") {
            Err(e) => return tick("dgram::Socket::bind_host", move || cb(Err(e))),
            Ok(Resolve::Ip(addr)) => {
                let r = self.bind(addr);
                return tick("dgram::Socket::bind_host", move || cb(r));
            }
            Ok(Resolve::Name(host, port)) => (host, port),
        };
        if let Err(e) = self.bindable() {
            return tick("dgram::Socket::bind_host", move || cb(Err(e)));
        }
        *self.inner.binding.borrow_mut() = Some(Vec::new());
        let me = self.clone();
        crate::dns::lookup(&host, self.inner.family.lookup(), move |ip| {
            let waiting = me.inner.binding.borrow_mut().take().unwrap_or_default();
            let bound = match ip {
                _ if me.inner.closed.get() => Err(not_running()),
                Ok(ip) => me.bind_now((ip, port).into()),
                Err(e) => Err(e),
            };
            match bound {
                Ok(local) => {
                    call(&me.inner.on_listening, ());
                    cb(Ok(local));
                    for (data, to, send_cb) in waiting {
                        me.send(data, to, send_cb);
                    }
                }
                Err(e) => {
                    for (_, _, send_cb) in waiting {
                        let e = io::Error::new(e.kind(), e.to_string());
                        tick("dgram::Socket::bind_host", move || send_cb(Err(e)));
                    }
                    cb(Err(e));
                }
            }
        });
    }

    /// Node's `ERR_SOCKET_ALREADY_BOUND` for a socket bound, binding or
    /// closed.
    fn bindable(&self) -> io::Result<()> {
        if self.inner.sock.borrow().is_some()
            || self.inner.closed.get()
            || self.inner.binding.borrow().is_some()
        {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "ERR_SOCKET_ALREADY_BOUND: Socket is already bound",
            ));
        }
        Ok(())
    }

    /// Binds and registers the socket, without the `listening` event.
    fn bind_now(&self, addr: SocketAddr) -> io::Result<SocketAddr> {
        self.bindable()?;
        self.inner.family.check(addr, "bind")?;
        let mut sock =
            mio::net::UdpSocket::bind(addr).map_err(|e| node_error(e, "bind", Some(addr)))?;
        let local = sock.local_addr()?;
        let reg = with_core("dgram::Socket::bind", |core| {
            Registration::new(core, &mut sock, self.inner.clone(), HandleKind::Udp)
        })?;
        if !self.inner.referenced.get() {
            reg.set_ref(false);
        }
        *self.inner.reg.borrow_mut() = Some(reg);
        *self.inner.sock.borrow_mut() = Some(sock);
        Ok(local)
    }

    /// The address it is bound to (Node's `address()`); `None` before
    /// `bind` and after `close`.
    pub fn address(&self) -> Option<SocketAddr> {
        self.inner.sock.borrow().as_ref()?.local_addr().ok()
    }

    /// Sets the `listening` handler.
    pub fn on_listening(&self, mut handler: impl FnMut() + 'static) -> &Socket {
        *self.inner.on_listening.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// Sets the `message` handler: each datagram and where it came from.
    pub fn on_message(&self, handler: impl FnMut(&[u8], RemoteInfo) + 'static) -> &Socket {
        *self.inner.on_message.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `error` handler: a receive error, or a send error whose
    /// `send` had no use for it. Without a handler such an error is logged.
    pub fn on_error(&self, handler: impl FnMut(io::Error) + 'static) -> &Socket {
        *self.inner.on_error.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `close` handler.
    pub fn on_close(&self, mut handler: impl FnMut() + 'static) -> &Socket {
        *self.inner.on_close.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// Sends `data` to `to`, an IP address or a host name with a port
    /// (`("localhost", 41234)`); `cb` gets the bytes sent or the error. An
    /// unbound socket is first bound to the unspecified address of its
    /// family and port 0, as Node does (`listening` follows).
    ///
    /// # Ordering
    /// To an address, the datagram leaves on a next tick queued by this call
    /// and `cb` runs on a next tick after that, as in Node (whose address
    /// lookup answers on a tick). A name is looked up on the thread pool
    /// (the socket's family), and the datagram leaves in the poll phase that
    /// hears the answer, `cb` on a next tick after that: each send looks up
    /// its own name, so it can leave after later sends, as in Node. If the
    /// kernel's buffer is full the datagram waits, in order with later
    /// sends, and `cb` runs in the poll phase when it leaves. During
    /// [`Socket::bind_host`]'s lookup, sends wait for it. A socket closed
    /// meanwhile calls `cb` with `ERR_SOCKET_DGRAM_NOT_RUNNING`.
    ///
    /// # Errors
    /// `cb` gets the send's error, `getaddrinfo ENOTFOUND name` for a name
    /// that does not resolve, or `InvalidInput` for an address of the other
    /// family or a string that is neither an address nor `name:port`.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    #[track_caller]
    pub fn send(
        &self,
        data: impl Into<Vec<u8>>,
        to: impl Into<HostPort>,
        cb: impl FnOnce(io::Result<usize>) + 'static,
    ) {
        let data = data.into();
        let cb: SendCallback = Box::new(cb);
        let to = to.into();
        if let Some(waiting) = &mut *self.inner.binding.borrow_mut() {
            waiting.push((data, to, cb));
            return;
        }
        let to = match to.resolve("send") {
            Ok(Resolve::Ip(to)) => to,
            Ok(Resolve::Name(host, port)) => return self.send_to_name(data, host, port, cb),
            Err(e) => return tick("dgram::Socket::send", move || cb(Err(e))),
        };
        if let Err(e) = self.inner.family.check(to, "send") {
            tick("dgram::Socket::send", move || cb(Err(e)));
            return;
        }
        if let Err(e) = self.bind_if_unbound() {
            tick("dgram::Socket::send", move || cb(Err(e)));
            return;
        }
        let me = self.inner.clone();
        tick("dgram::Socket::send", move || {
            me.unsent.borrow_mut().push_back((data, to, cb));
            me.flush();
        });
    }

    /// Node's implicit bind before a first send: to the family's any
    /// address, port 0. Nothing to do once bound, or once closed (the send
    /// then fails on its own).
    fn bind_if_unbound(&self) -> io::Result<()> {
        if self.inner.sock.borrow().is_none() && !self.inner.closed.get() {
            self.bind(self.inner.family.unspecified())?;
        }
        Ok(())
    }

    /// [`Socket::send`] to a name: bind if unbound, look the name up, then
    /// queue the datagram (or call back with the lookup's error on a tick).
    #[track_caller]
    fn send_to_name(&self, data: Vec<u8>, host: String, port: u16, cb: SendCallback) {
        if let Err(e) = self.bind_if_unbound() {
            tick("dgram::Socket::send", move || cb(Err(e)));
            return;
        }
        let me = self.inner.clone();
        crate::dns::lookup(&host, self.inner.family.lookup(), move |ip| match ip {
            Ok(ip) => {
                me.unsent
                    .borrow_mut()
                    .push_back((data, (ip, port).into(), cb));
                me.flush();
            }
            Err(e) => tick("dgram::Socket::send", move || cb(Err(e))),
        });
    }

    /// Stops receiving and closes the socket; `close` (and then `cb`) runs
    /// on a next tick, after the callbacks of sends still waiting, which get
    /// `ERR_SOCKET_DGRAM_NOT_RUNNING`.
    ///
    /// # Errors
    /// `ERR_SOCKET_DGRAM_NOT_RUNNING` if it was already closed (Node's
    /// second `close` throws it); `cb` is not called then.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    #[track_caller]
    pub fn close(&self, cb: impl FnOnce() + 'static) -> io::Result<()> {
        if self.inner.closed.replace(true) {
            return Err(not_running());
        }
        self.inner.deregister();
        let me = self.inner.clone();
        tick("dgram::Socket::close", move || {
            let unsent = std::mem::take(&mut *me.unsent.borrow_mut());
            for (_, _, cb) in unsent {
                cb(Err(not_running()));
            }
            call(&me.on_close, ());
            cb();
            me.release();
        });
        Ok(())
    }

    /// Lets the loop exit even though the socket is bound.
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

    /// Allows sending to a broadcast address (`SO_BROADCAST`).
    ///
    /// # Errors
    /// The OS error, or `ERR_SOCKET_DGRAM_NOT_RUNNING` before `bind`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.with_sock(|s| s.set_broadcast(on))
    }

    /// Sets the unicast time-to-live (`IP_TTL`).
    ///
    /// # Errors
    /// As [`Socket::set_broadcast`].
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.with_sock(|s| s.set_ttl(ttl))
    }

    /// Sets the IPv4 multicast time-to-live (`IP_MULTICAST_TTL`).
    ///
    /// # Errors
    /// As [`Socket::set_broadcast`].
    pub fn set_multicast_ttl(&self, ttl: u32) -> io::Result<()> {
        self.with_sock(|s| s.set_multicast_ttl_v4(ttl))
    }

    /// Whether IPv4 multicast datagrams loop back to this host
    /// (`IP_MULTICAST_LOOP`).
    ///
    /// # Errors
    /// As [`Socket::set_broadcast`].
    pub fn set_multicast_loopback(&self, on: bool) -> io::Result<()> {
        self.with_sock(|s| s.set_multicast_loop_v4(on))
    }

    /// Joins an IPv4 multicast group on `interface` (the unspecified
    /// address: the OS's choice).
    ///
    /// # Errors
    /// As [`Socket::set_broadcast`].
    pub fn add_membership(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.with_sock(|s| s.join_multicast_v4(&group, &interface))
    }

    /// Leaves an IPv4 multicast group.
    ///
    /// # Errors
    /// As [`Socket::set_broadcast`].
    pub fn drop_membership(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.with_sock(|s| s.leave_multicast_v4(&group, &interface))
    }

    fn with_sock<T>(&self, f: impl FnOnce(&mio::net::UdpSocket) -> io::Result<T>) -> io::Result<T> {
        match &*self.inner.sock.borrow() {
            Some(s) => f(s),
            None => Err(not_running()),
        }
    }
}

/// Node's `ERR_SOCKET_DGRAM_NOT_RUNNING`.
fn not_running() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "ERR_SOCKET_DGRAM_NOT_RUNNING: Not running",
    )
}

impl SocketInner {
    /// Takes the socket out of the reactor and closes it.
    fn deregister(&self) {
        let sock = self.sock.borrow_mut().take();
        let reg = self.reg.borrow_mut().take();
        if let (Some(mut s), Some(reg)) = (sock, reg) {
            let handler = reg.deregister(&mut s);
            drop((s, handler));
        }
    }

    /// Drops the handlers, which may hold the socket (a cycle).
    fn release(&self) {
        let handlers = (
            self.on_listening.take(),
            self.on_message.take(),
            self.on_error.take(),
            self.on_close.take(),
        );
        drop(handlers);
    }

    /// Sends what waits, in order, until the kernel says `WouldBlock`.
    fn flush(self: &Rc<Self>) {
        loop {
            let sent = {
                let sock = self.sock.borrow();
                let unsent = self.unsent.borrow();
                let (Some(sock), Some((data, to, _))) = (&*sock, unsent.front()) else {
                    break;
                };
                match sock.send_to(data, *to) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => r.map_err(|e| node_error(e, "send", Some(*to))),
                }
            };
            let (_, _, cb) = self.unsent.borrow_mut().pop_front().expect("front");
            tick("dgram::Socket::send", move || cb(sent));
        }
        if self.closed.get() {
            let unsent = std::mem::take(&mut *self.unsent.borrow_mut());
            for (_, _, cb) in unsent {
                tick("dgram::Socket::send", move || cb(Err(not_running())));
            }
        }
    }

    /// Reads datagrams until `WouldBlock` or the budget, one `message`
    /// callback (and drain) each.
    fn receive(self: &Rc<Self>) {
        // The thread's buffer, taken for this call (a nested receive, from a
        // handler, would make its own), and put back when it ends.
        let mut buf = BUF.take();
        buf.resize(MAX_DATAGRAM, 0);
        let _give_back = GiveBack(&mut buf);
        let buf = &mut *_give_back.0;
        let _after_panic = ReceiveOnAfterPanic(self);
        for _ in 0..RECVS_PER_EVENT {
            let got = match &*self.sock.borrow() {
                Some(s) => s.recv_from(buf),
                None => return,
            };
            match got {
                Ok((n, addr)) => {
                    if let Some(mut lent) = Lent::take(&self.on_message) {
                        lent.handler()(&buf[..n], RemoteInfo { addr, size: n });
                    }
                    try_with_core(|core| core.drain_now());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let e = node_error(e, "recvmsg", None);
                    if self.on_error.borrow().is_some() {
                        call(&self.on_error, e);
                    } else {
                        log::warn!(target: "evloop", "dgram: {e}");
                    }
                    try_with_core(|core| core.drain_now());
                }
            }
        }
        // Budget spent: the rest in the next pending phase (an
        // edge-triggered source would not report it again).
        self.receive_later();
    }

    fn receive_later(self: &Rc<Self>) {
        let me = self.clone();
        try_with_core(|core| {
            core.defer_pending(Callback::new(move || me.receive(), Location::caller()))
        });
    }
}

/// Datagrams left in the kernel when a `message` handler's panic stopped
/// the reading are read in the next pending phase: the edge-triggered
/// source would not report them again.
struct ReceiveOnAfterPanic<'a>(&'a Rc<SocketInner>);

impl Drop for ReceiveOnAfterPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.receive_later();
        }
    }
}

impl Ready for SocketInner {
    fn ready(self: Rc<Self>, readable: bool, writable: bool) {
        if writable && !self.unsent.borrow().is_empty() {
            self.flush();
        }
        if readable {
            self.receive();
        }
    }

    fn teardown(&self) {
        // The loop is going away: its reactor closes the registration.
        drop(self.reg.borrow_mut().take());
        drop(self.sock.borrow_mut().take());
        drop(std::mem::take(&mut *self.unsent.borrow_mut()));
        self.release();
    }
}

/// A UDP socket for tasks: `recv_from` and `send_to` as futures.
///
/// # Ordering
/// A task waiting to receive or send resumes in the microtask checkpoint
/// after the poll phase reports the socket ready. An open socket keeps the
/// loop alive; dropping it closes it.
pub struct UdpSocket {
    io: Rc<Io<mio::net::UdpSocket>>,
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        self.io.close();
    }
}

impl UdpSocket {
    /// Binds to `addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// `bind EADDRINUSE 127.0.0.1:41234` and the like.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        let sock =
            mio::net::UdpSocket::bind(addr).map_err(|e| node_error(e, "bind", Some(addr)))?;
        Ok(UdpSocket {
            io: Io::new(sock, HandleKind::Udp)?,
        })
    }

    /// Waits for a datagram; copies it into `buf` (the rest of a longer one
    /// is lost, as with `recvfrom`) and returns its length and sender.
    ///
    /// # Errors
    /// The OS error.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        std::future::poll_fn(|cx| self.io.poll_op(cx, false, |s| s.recv_from(buf))).await
    }

    /// Sends `buf` to `to` as one datagram, waiting if the kernel's buffer
    /// is full; returns the bytes sent. `to` is an IP address or a host name
    /// with a port (`("localhost", 41234)`), looked up first on the thread
    /// pool ([`dns::promises::lookup`](crate::dns::promises::lookup), the
    /// family of the address bound).
    ///
    /// # Errors
    /// The OS error, e.g. `EMSGSIZE` for a datagram over 65,507 bytes;
    /// `getaddrinfo ENOTFOUND name` for a name that does not resolve;
    /// `InvalidInput` for a string that is neither an address nor
    /// `name:port`.
    pub async fn send_to(&self, buf: &[u8], to: impl Into<HostPort>) -> io::Result<usize> {
        let to = match to.into().resolve("send")? {
            Resolve::Ip(to) => to,
            Resolve::Name(host, port) => {
                let family = match self.local_addr()? {
                    SocketAddr::V4(_) => crate::dns::Family::V4,
                    SocketAddr::V6(_) => crate::dns::Family::V6,
                };
                let ip = crate::dns::promises::lookup(&host, family).await?;
                (ip, port).into()
            }
        };
        std::future::poll_fn(|cx| self.io.poll_op(cx, true, |s| s.send_to(buf, to)))
            .await
            .map_err(|e| node_error(e, "send", Some(to)))
    }

    /// The address it is bound to.
    ///
    /// # Errors
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source.borrow().local_addr()
    }

    /// Allows sending to a broadcast address (`SO_BROADCAST`).
    ///
    /// # Errors
    /// The OS error.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.source.borrow().set_broadcast(on)
    }

    /// Lets the loop exit even though the socket is open.
    pub fn unref(&self) {
        self.io.set_ref(false);
    }
}

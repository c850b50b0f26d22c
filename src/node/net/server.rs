//! The callback API's server: Node's `net.Server`, which hands each
//! accepted connection to its `connection` handler as a [`Socket`].

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::rt::callback::Callback;

use crate::rt::context::with_core;
use crate::rt::panic::DropEach;
use crate::rt::reactor::{Ready, Registration};

use super::error::node_error;
use super::handler::{Handler, call};
use super::host::{HostPort, Resolve};
use super::socket::{Acceptor, Socket, SocketInner};
use super::stream::{Listener, bind_unix};

/// A server's state, shared by its [`Server`] handles, its registration
/// and (as their [`Acceptor`]) the sockets it accepted, until each is
/// destroyed.
struct ServerInner {
    listener: RefCell<Option<Listener>>,
    reg: RefCell<Option<Registration>>,
    on_connection: Handler<Socket>,
    on_error: Handler<io::Error>,
    on_close: Handler<()>,
    /// A spare descriptor, given up to accept (and drop) one connection when
    /// the process is out of descriptors, as libuv does.
    reserve: RefCell<Option<std::fs::File>>,
    connections: Cell<usize>,
    /// Node's `server.maxConnections`: past it, new connections are closed
    /// at once.
    max_connections: Cell<Option<usize>>,
    closing: Cell<bool>,
    closed: Cell<bool>,
    referenced: Cell<bool>,
}

/// A TCP or Unix domain socket server with Node's `net.Server` events, as
/// callbacks.
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
            .field("local_path", &self.local_path())
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
            max_connections: Cell::new(None),
            closing: Cell::new(false),
            closed: Cell::new(false),
            referenced: Cell::new(true),
        }),
    }
}

impl Server {
    /// Binds and listens on an IP address (`"127.0.0.1:0"`, a
    /// [`SocketAddr`]); port 0 picks a free port. Returns the address bound
    /// (also [`Server::local_addr`]). For a host name, use
    /// [`Server::listen_host`].
    ///
    /// # Errors
    /// `listen EADDRINUSE 127.0.0.1:8080` and the like; `AddrInUse` with
    /// Node's `ERR_SERVER_ALREADY_LISTEN` message if this server already
    /// listens (nothing is bound, the first listener goes on);
    /// `InvalidInput` for a host name (it cannot be looked up without
    /// waiting) or a string that is not an address.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn listen(&self, addr: impl Into<HostPort>) -> io::Result<SocketAddr> {
        self.not_listening()?;
        let addr = addr.into().ip_only("listen", "Server::listen_host")?;
        let listener =
            mio::net::TcpListener::bind(addr).map_err(|e| node_error(e, "listen", Some(addr)))?;
        self.adopt(Listener::Tcp(listener))?;
        self.local_addr()
            .ok_or_else(|| io::Error::other("listening socket has no address"))
    }

    /// Listens on a host name or an IP address, as Node's
    /// `server.listen(port, host, cb)`: a name (`("localhost", 0)`) is
    /// looked up on the thread pool ([`dns::lookup`](crate::dns::lookup),
    /// its first address) and the server listens in the poll phase that
    /// hears the answer; an IP address listens at once. `on_listening` gets
    /// the address bound, or the error, on a next tick after that (Node's
    /// `listening` event; a failure is Node's `error` event, here the
    /// callback's `Err`).
    ///
    /// ```
    /// use evloop::net;
    /// evloop::run(|| {
    ///     let server = net::create_server(|socket| socket.end());
    ///     let s = server.clone();
    ///     server.listen_host(("localhost", 0), move |bound| {
    ///         assert!(bound.unwrap().ip().is_loopback());
    ///         s.close(|| {});
    ///     });
    /// });
    /// ```
    ///
    /// # Errors
    /// `on_listening` gets `getaddrinfo ENOTFOUND name` for a name that
    /// does not resolve, `ERR_SERVER_NOT_RUNNING` if the server was closed
    /// during the lookup, and [`Server::listen`]'s errors.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    #[track_caller]
    pub fn listen_host(
        &self,
        addr: impl Into<HostPort>,
        on_listening: impl FnOnce(io::Result<SocketAddr>) + 'static,
    ) {
        let site = std::panic::Location::caller();
        let after = move |r: io::Result<SocketAddr>| {
            with_core("Server::listen_host", |core| {
                core.push_tick(Callback::new(move || on_listening(r), site))
            });
        };
        match addr.into().resolve("listen") {
            Err(e) => after(Err(e)),
            Ok(Resolve::Ip(addr)) => after(self.listen(addr)),
            Ok(Resolve::Name(host, port)) => {
                let me = self.clone();
                crate::dns::lookup(&host, crate::dns::Family::Any, move |ip| {
                    let r = ip.and_then(|ip| {
                        if me.inner.closing.get() {
                            return Err(io::Error::new(
                                io::ErrorKind::NotConnected,
                                "ERR_SERVER_NOT_RUNNING: Server is not running.",
                            ));
                        }
                        me.listen((ip, port))
                    });
                    after(r);
                });
            }
        }
    }

    /// Listens on a Unix domain socket at `path` (Node's
    /// `server.listen(path)`); clients connect with
    /// [`net::connect_path`](crate::net::connect_path). The socket file is
    /// removed when the server stops listening: at [`Server::close`], or
    /// when the loop is dropped. Accepted connections are [`Socket`]s with
    /// the same events and order as TCP ones ([`Socket::remote_addr`] is
    /// `None`).
    ///
    /// # Errors
    /// `listen EADDRINUSE /tmp/x.sock` if the file exists (also a stale one
    /// that nobody listens on: remove it first, as with Node);
    /// `listen ENOENT ...` / `listen EACCES ...` for a missing or forbidden
    /// folder; `listen ENAMETOOLONG: ...` for a path over 107 bytes (libuv
    /// 1.46 would cut it short and listen on another file); as
    /// [`Server::listen`] if this server already listens.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn listen_path(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.not_listening()?;
        let (listener, file) = bind_unix(path.as_ref())?;
        self.adopt(Listener::Unix(listener, file))
    }

    /// Listens on an already bound `std` listener (e.g. one made with
    /// `SO_REUSEPORT` to share a port between loops).
    ///
    /// # Errors
    /// If it cannot be made non-blocking or registered; as [`Server::listen`]
    /// if this server already listens (the listener given is closed).
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn listen_on(&self, listener: std::net::TcpListener) -> io::Result<SocketAddr> {
        self.not_listening()?;
        listener.set_nonblocking(true)?;
        self.adopt(Listener::Tcp(mio::net::TcpListener::from_std(listener)))?;
        self.local_addr()
            .ok_or_else(|| io::Error::other("listening socket has no address"))
    }

    /// Node's `ERR_SERVER_ALREADY_LISTEN`: a second `listen` would leave
    /// the first registration behind, keeping the loop alive for ever.
    fn not_listening(&self) -> io::Result<()> {
        if self.inner.listener.borrow().is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "ERR_SERVER_ALREADY_LISTEN: Listen method has been called more than once \
                 without closing.",
            ));
        }
        Ok(())
    }

    fn adopt(&self, mut listener: Listener) -> io::Result<()> {
        let kind = listener.kind();
        let reg = with_core("Server::listen", |core| {
            Registration::new(core, &mut listener, self.inner.clone(), kind)
        })?;
        *self.inner.reg.borrow_mut() = Some(reg);
        *self.inner.listener.borrow_mut() = Some(listener);
        if !self.inner.referenced.get() {
            self.set_ref(false);
        }
        Ok(())
    }

    /// The address the server listens on (`None` on a Unix socket, or when
    /// not listening).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.listener.borrow().as_ref()?.local_addr()
    }

    /// The Unix socket path the server listens on (`None` on TCP, or when
    /// not listening): Node's `server.address()` for a pipe.
    pub fn local_path(&self) -> Option<PathBuf> {
        Some(
            self.inner
                .listener
                .borrow()
                .as_ref()?
                .local_path()?
                .to_path_buf(),
        )
    }

    /// Sets the `error` handler (accept failures).
    pub fn on_error(&self, handler: impl FnMut(io::Error) + 'static) -> &Server {
        *self.inner.on_error.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Stops accepting; `on_close` runs on the next tick after the last
    /// connection it accepted is destroyed (right after this call's tick if
    /// none is open), as Node's `server.close`, also when every `Server`
    /// handle has been dropped meanwhile (its connections keep it).
    pub fn close(&self, mut on_close: impl FnMut() + 'static) {
        *self.inner.on_close.borrow_mut() = Some(Box::new(move |()| on_close()));
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

    /// Caps the open connections (Node's `server.maxConnections`; `None`,
    /// the default, is no cap). While [`Server::connections`] is at or over
    /// `max`, each newly accepted connection is closed at once: the peer
    /// sees its connection end (EOF, or a reset if it had sent data), the
    /// `connection` handler is not called and it is not counted. Open
    /// connections are never closed by this, even when `max` is lowered
    /// below their number. (Node also emits a `drop` event for each; evloop
    /// has none.)
    pub fn set_max_connections(&self, max: Option<usize>) {
        self.inner.max_connections.set(max);
    }

    /// The cap set by [`Server::set_max_connections`].
    pub fn max_connections(&self) -> Option<usize> {
        self.inner.max_connections.get()
    }
}

impl Acceptor for ServerInner {
    fn connection_closed(self: Rc<Self>) {
        self.connections.set(self.connections.get() - 1);
        self.maybe_closed();
    }
}

impl ServerInner {
    /// Once closing with no connection left: `close` on the next tick.
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
            Some(Ok(s)) => {
                drop(s);
                true
            }
            _ => false,
        };
        *self.reserve.borrow_mut() = std::fs::File::open("/dev/null").ok();
        if shed {
            let message = format!(
                "accept failed ({e}): out of file descriptors; closed one pending \
                 connection to shed load, serving on"
            );
            log::warn!(target: "evloop", "{message}");
            crate::rt::process::emit_warning(crate::rt::process::ProcessWarning::new(message));
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
    /// Drops the handlers one by one (see `DropEach`).
    fn drop_handlers(&self) {
        let mut each = DropEach::new("a server's handlers");
        each.drop_one(self.on_connection.take());
        each.drop_one(self.on_error.take());
        each.drop_one(self.on_close.take());
        each.finish();
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
                Ok(stream) => {
                    if self
                        .max_connections
                        .get()
                        .is_some_and(|max| self.connections.get() >= max)
                    {
                        // Node: `clientHandle.close()`, before it is counted.
                        drop(stream);
                        continue;
                    }
                    let inner = SocketInner::new(Some(stream), false);
                    let registered = with_core("accept", |core| inner.register(core));
                    if let Err(e) = registered {
                        call(&self.on_error, node_error(e, "accept", None));
                        continue;
                    }
                    inner.set_server(self.clone());
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

//! TCP on the reactor, in both of evloop's styles: callbacks after Node's
//! `net` module ([`create_server`], [`connect`], [`Socket`]) and futures
//! ([`TcpListener`], [`TcpStream`]), and [`cluster`] for one loop per core
//! on a shared port.
//!
//! Sockets are registered with mio once, for both directions, under a token
//! from the reactor's slab; readiness arrives in the poll phase and each
//! callback is followed by the next-tick/microtask drain. Registrations are
//! edge-triggered, so reads go on until `WouldBlock` (at most 32 reads per
//! event, like libuv; the rest is picked up in the next iteration's pending
//! phase so one busy socket cannot starve the others).

mod server;
mod socket;
mod tcp;

pub use server::{Server, create_server};
pub use socket::{Socket, connect};
pub use tcp::{TcpListener, TcpStream};

use std::io;

/// Node's `err.code` for a socket error, `"ECONNRESET"`, `"EPIPE"`, ...
fn code(e: &io::Error) -> &'static str {
    use io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "ECONNREFUSED",
        ConnectionReset => "ECONNRESET",
        ConnectionAborted => "ECONNABORTED",
        BrokenPipe => "EPIPE",
        TimedOut => "ETIMEDOUT",
        AddrInUse => "EADDRINUSE",
        AddrNotAvailable => "EADDRNOTAVAIL",
        NotConnected => "ENOTCONN",
        HostUnreachable => "EHOSTUNREACH",
        NetworkUnreachable => "ENETUNREACH",
        _ => match e.raw_os_error() {
            Some(libc::EMFILE) => "EMFILE",
            Some(libc::ENFILE) => "ENFILE",
            _ => "EUNKNOWN",
        },
    }
}

/// Rewrites `e` as Node prints it: `connect ECONNREFUSED 127.0.0.1:1`.
fn node_error(e: io::Error, op: &str, target: Option<std::net::SocketAddr>) -> io::Error {
    let message = match target {
        Some(addr) => format!("{op} {} {addr}", code(&e)),
        None => format!("{op} {}", code(&e)),
    };
    io::Error::new(e.kind(), message)
}

/// A listener bound with `SO_REUSEPORT` (and `SO_REUSEADDR`), so several
/// loops, one per thread, can each accept on the same port and the kernel
/// spreads connections between them. Port 0 picks a free port; bind the
/// others to [`std::net::TcpListener::local_addr`] of the first.
///
/// # Errors
/// The OS error from socket, setsockopt, bind or listen.
pub fn reuse_port_listener(addr: std::net::SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Runs `main` on `threads` threads, each with its own event loop and its
/// own `SO_REUSEPORT` listener on the same address, like Node's `cluster`
/// module (one loop per core). `main` gets the listener as the loop's main
/// script, typically to hand it to [`Server::listen_on`] or
/// [`TcpListener::from_std`]; each loop then runs until it has nothing
/// left to do.
///
/// # Errors
/// Binding fails (e.g. the port is taken).
pub fn cluster<F>(threads: usize, addr: std::net::SocketAddr, main: F) -> io::Result<Cluster>
where
    F: Fn(std::net::TcpListener) + Send + Sync + 'static,
{
    let first = reuse_port_listener(addr)?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..threads.max(1) {
        listeners.push(reuse_port_listener(addr)?);
    }
    let main = std::sync::Arc::new(main);
    let handles = listeners
        .into_iter()
        .enumerate()
        .map(|(i, listener)| {
            let main = main.clone();
            std::thread::Builder::new()
                .name(format!("evloop-cluster-{i}"))
                .spawn(move || {
                    crate::EventLoop::new()
                        .expect("evloop: cannot create an event loop for a cluster thread")
                        .run_main(move || main(listener));
                })
        })
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Cluster { addr, handles })
}

/// The threads of a [`cluster`].
#[derive(Debug)]
pub struct Cluster {
    addr: std::net::SocketAddr,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Cluster {
    /// The address every loop listens on.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Waits for every loop to finish.
    ///
    /// # Errors
    /// If a loop's thread panicked: the number of loops that did.
    pub fn join(self) -> Result<(), usize> {
        let failed = self
            .handles
            .into_iter()
            .filter_map(|h| h.join().err())
            .count();
        if failed == 0 { Ok(()) } else { Err(failed) }
    }
}

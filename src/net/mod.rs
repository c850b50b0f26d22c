//! TCP on the reactor, in both of evloop's styles: callbacks after Node's
//! `net` module ([`create_server`], [`connect`], [`Socket`]) and futures
//! ([`TcpListener`], [`TcpStream`]).
//!
//! Sockets are registered with mio once, for both directions, under a token
//! from the reactor's slab; readiness arrives in the poll phase and each
//! callback is followed by the next-tick/microtask drain. Registrations are
//! edge-triggered, so reads go on until `WouldBlock` (at most 32 reads per
//! event, like libuv; the rest is picked up in the next iteration's pending
//! phase so one busy socket cannot starve the others).

mod socket;
mod tcp;

pub use socket::{Server, Socket, connect, create_server};
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

//! TCP and Unix domain sockets on the reactor, in both of evloop's styles:
//! callbacks after Node's `net` module ([`create_server`], [`connect`],
//! [`connect_path`], [`Socket`]; [`Server::listen_path`]) and futures
//! ([`TcpListener`], [`TcpStream`], [`UnixListener`], [`UnixStream`]), and
//! [`cluster`] for one loop per core on a shared port. Where Node takes a
//! host, a [`HostPort`] takes an IP address or a host name, which is
//! looked up on the thread pool ([`dns`](crate::dns)), never on the loop's
//! thread.
//!
//! Sockets are registered with mio once, for both directions, under a token
//! from the reactor's slab; readiness arrives in the poll phase and each
//! callback is followed by the next-tick/microtask drain. Registrations are
//! edge-triggered, so reads go on until `WouldBlock` (at most 32 reads per
//! event, like libuv; the rest is picked up in the next iteration's pending
//! phase so one busy socket cannot starve the others).
//!
//! Files: the callback API's [`Server`] in `server.rs` and [`Socket`] in
//! `socket/`, with the handler slots both use in `handler.rs`; the futures
//! API ([`TcpListener`], [`TcpStream`]) in `tcp.rs`, ([`UnixListener`],
//! [`UnixStream`]) in `unix.rs`, their `futures-io` traits and halves
//! ([`ReadHalf`], [`OwnedWriteHalf`], ...) in `async_io.rs`; TCP or Unix behind the callback types in
//! `stream.rs`; [`cluster`] and
//! [`reuse_port_listener`] in `reuse_port.rs`; [`HostPort`] in `host.rs`;
//! Node's error codes and messages in `error.rs`.

mod async_io;
mod error;
pub(in crate::node) mod handler;
mod host;
mod io;
mod reuse_port;
mod server;
mod socket;
mod stream;
mod tcp;
pub(in crate::node) mod udp;
mod unix;

pub use async_io::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
pub use host::HostPort;
pub use reuse_port::{Cluster, cluster, reuse_port_listener};
pub use server::{Server, create_server};
pub use socket::{Socket, connect, connect_path};
pub use tcp::{TcpListener, TcpStream};
pub use unix::{UnixListener, UnixStream};

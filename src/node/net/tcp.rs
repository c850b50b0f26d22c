//! The future API: [`TcpListener`] and [`TcpStream`] for tasks on the loop.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

use crate::rt::walk::HandleKind;

use super::error::node_error;
use super::host::{HostPort, Resolve};
use super::io::Io;

/// A listening TCP socket for tasks (`net.Server` with `await`).
///
/// # Ordering
/// `accept().await` resumes in the microtask checkpoint after the poll
/// phase reports the listener readable. A listener keeps the loop alive
/// while it exists.
pub struct TcpListener {
    io: Rc<Io<mio::net::TcpListener>>,
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl TcpListener {
    /// Binds and listens on an IP address (`"127.0.0.1:0"`, a
    /// [`SocketAddr`]); port 0 picks a free port. For a host name, look it
    /// up first with [`dns::promises::lookup`](crate::dns::promises::lookup).
    ///
    /// # Errors
    /// `listen EADDRINUSE 127.0.0.1:8080` and the like; `InvalidInput` for
    /// a host name or a string that is not an address.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn bind(addr: impl Into<HostPort>) -> io::Result<TcpListener> {
        let addr = addr
            .into()
            .ip_only("listen", "dns::promises::lookup, then TcpListener::bind")?;
        let l =
            mio::net::TcpListener::bind(addr).map_err(|e| node_error(e, "listen", Some(addr)))?;
        Ok(TcpListener {
            io: Io::new(l, HandleKind::TcpServer)?,
        })
    }

    /// Takes over a bound `std` listener (e.g. one sharing a port with
    /// `SO_REUSEPORT`).
    ///
    /// # Errors
    /// If it cannot be made non-blocking or registered.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: Io::new(
                mio::net::TcpListener::from_std(listener),
                HandleKind::TcpServer,
            )?,
        })
    }

    /// The next connection and its peer's address.
    ///
    /// # Errors
    /// The OS error from `accept`; the listener stays usable. Out of file
    /// descriptors (`EMFILE`, `ENFILE`) is reported at once, every time, and
    /// the waiting connection stays queued: an accept loop should wait a
    /// little before it tries again (e.g. `sleep` 10–100 ms, as hyper does),
    /// or it spins until a descriptor is free. (The callback server,
    /// [`net::create_server`](crate::net::create_server), sheds the
    /// connection instead, as libuv does.)
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) =
            std::future::poll_fn(|cx| self.io.poll_op(cx, false, |l| l.accept())).await?;
        Ok((
            TcpStream {
                io: Io::new(stream, HandleKind::TcpSocket)?,
            },
            addr,
        ))
    }

    /// The address it listens on.
    ///
    /// # Errors
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source.borrow().local_addr()
    }

    /// Lets the loop exit even though the listener is open.
    pub fn unref(&self) {
        self.io.set_ref(false);
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.io.close();
    }
}

/// A TCP connection for tasks: `read`, `write_all`, `shutdown` as futures.
///
/// The methods take `&self`: one task may read while another writes (or
/// use [`split`](TcpStream::split) / [`into_split`](TcpStream::into_split)
/// for halves with one direction each). It is also a `futures-io`
/// `AsyncRead` and `AsyncWrite` (so is `&TcpStream`), for the ecosystem's
/// readers, codecs and `copy`; `poll_close` ends writing, as
/// [`shutdown`](TcpStream::shutdown). No `AsyncBufRead`: the stream keeps
/// no buffer; wrap it in `futures::io::BufReader` for `lines()`.
///
/// ```
/// use evloop::net::{TcpListener, TcpStream};
/// // What `futures::io::BufReader::new`, codecs and `copy` accept:
/// fn takes_a_reader(_: &impl futures_io::AsyncRead) {}
/// let got = evloop::run_async(async {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = listener.local_addr().unwrap();
///     evloop::spawn(async move {
///         let (peer, _) = listener.accept().await.unwrap();
///         peer.write_all(b"one\ntwo\n").await.unwrap();
///     })
///     .detach();
///     let stream = TcpStream::connect(addr).await.unwrap();
///     takes_a_reader(&stream);
///     let (mut got, mut buf) = (Vec::new(), [0; 64]);
///     loop {
///         match stream.read(&mut buf).await.unwrap() {
///             0 => break got, // the peer closed
///             n => got.extend_from_slice(&buf[..n]),
///         }
///     }
/// });
/// assert_eq!(got, b"one\ntwo\n");
/// ```
///
/// # Ordering
/// A task waiting to read or write resumes in the microtask checkpoint
/// after the poll phase reports the socket ready; when several tasks wait
/// in one direction, the edge wakes them all, in the order they began
/// waiting. An open stream keeps the loop alive; dropping it closes the
/// connection.
pub struct TcpStream {
    pub(super) io: Rc<Io<mio::net::TcpStream>>,
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        self.io.close();
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl TcpStream {
    /// Connects to `addr`: an IP address, or a host name with a port
    /// (`("localhost", 80)`, `"localhost:80"`), looked up on the thread
    /// pool ([`dns::promises::lookup_all`](crate::dns::promises::lookup_all))
    /// and its addresses tried in the resolver's order until one connects
    /// (Node 20 alternates families 250 ms apart; evloop tries one after
    /// the other).
    ///
    /// # Errors
    /// `connect ECONNREFUSED 127.0.0.1:1` and the like (the last address's
    /// error when every one failed), `getaddrinfo ENOTFOUND name` for a
    /// name that does not resolve, `InvalidInput` for a string that is
    /// neither an address nor `name:port`.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub async fn connect(addr: impl Into<HostPort>) -> io::Result<TcpStream> {
        let (host, port) = match addr.into().resolve("connect")? {
            Resolve::Ip(addr) => return TcpStream::connect_ip(addr).await,
            Resolve::Name(host, port) => (host, port),
        };
        let ips = crate::dns::promises::lookup_all(&host, crate::dns::Family::Any).await?;
        TcpStream::connect_each(ips, port).await
    }

    /// Tries each address in order; the last error if none connects.
    async fn connect_each(ips: Vec<IpAddr>, port: u16) -> io::Result<TcpStream> {
        let mut last = io::Error::other("no address to connect to");
        for ip in ips {
            match TcpStream::connect_ip((ip, port).into()).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn connect_ip(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream =
            mio::net::TcpStream::connect(addr).map_err(|e| node_error(e, "connect", Some(addr)))?;
        // Owned by a `TcpStream` at once, so a failed or cancelled connect
        // deregisters and closes the socket (its `Drop`).
        let stream = TcpStream {
            io: Io::new(stream, HandleKind::TcpSocket)?,
        };
        stream
            .io
            .connected()
            .await
            .map_err(|e| node_error(e, "connect", Some(addr)))?;
        Ok(stream)
    }

    /// Reads what is available, waiting for at least one byte; `Ok(0)` means
    /// the peer ended.
    ///
    /// # Errors
    /// The OS error (e.g. `ECONNRESET`).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read(buf).await
    }

    /// Writes some of `buf`, waiting until the socket can take at least one
    /// byte; returns how much was written.
    ///
    /// # Errors
    /// The OS error (e.g. `EPIPE`).
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write(buf).await
    }

    /// Writes all of `buf`, waiting as needed.
    ///
    /// # Errors
    /// The OS error; some of `buf` may have been written.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        self.io.write_all(buf).await
    }

    /// Sends FIN: the peer reads the end; reading still works.
    ///
    /// # Errors
    /// The OS error.
    pub async fn shutdown(&self) -> io::Result<()> {
        self.io.shutdown()
    }

    /// Disables (or enables) Nagle's algorithm (`TCP_NODELAY`).
    ///
    /// # Errors
    /// The OS error.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.io.source.borrow().set_nodelay(on)
    }

    /// The peer's address.
    ///
    /// # Errors
    /// The OS error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source.borrow().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source.borrow().local_addr()
    }

    /// Lets the loop exit even though the stream is open.
    pub fn unref(&self) {
        self.io.set_ref(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known difference (design.md): a name's addresses are tried one after
    /// the other (Node 20 races the families 250 ms apart): a refused first
    /// address falls back to the next. (`localhost` has one address here, so this is the pin.)
    #[test]
    fn addresses_are_tried_in_order() {
        let _w = crate::test_watchdog::watchdog();
        crate::run_async(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let refused: IpAddr = "127.0.0.2".parse().unwrap();
            let open: IpAddr = "127.0.0.1".parse().unwrap();
            let stream = TcpStream::connect_each(vec![refused, open], port)
                .await
                .unwrap();
            assert_eq!(stream.peer_addr().unwrap(), (open, port).into());
            let e = TcpStream::connect_each(vec![refused], port)
                .await
                .unwrap_err();
            assert!(e.to_string().starts_with("connect E"), "{e}");
        });
    }
}

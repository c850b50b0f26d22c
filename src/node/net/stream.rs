//! The two kinds of stream socket behind the callback API's [`Socket`] and
//! [`Server`]: TCP and Unix domain (Node's `TCPWrap` and `PipeWrap`), so
//! that one socket's event logic serves both. A Unix listener removes its
//! socket file when it closes, as libuv's `uv_close` on a pipe server does.
//!
//! [`Socket`]: super::Socket
//! [`Server`]: super::Server

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::path::{Path, PathBuf};

use mio::event::Source;
use mio::{Interest, Registry, Token};

use crate::rt::walk::HandleKind;

/// `impl Source for $t` by its `source()`: both socket kinds register
/// the mio socket they hold, whichever it is.
macro_rules! delegate_source {
    ($t:ty) => {
        impl Source for $t {
            fn register(
                &mut self,
                registry: &Registry,
                token: Token,
                interests: Interest,
            ) -> io::Result<()> {
                self.source().register(registry, token, interests)
            }

            fn reregister(
                &mut self,
                registry: &Registry,
                token: Token,
                interests: Interest,
            ) -> io::Result<()> {
                self.source().reregister(registry, token, interests)
            }

            fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
                self.source().deregister(registry)
            }
        }
    };
}

/// A connected (or connecting) stream socket.
pub(super) enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

/// For the socket's write queue ([`OutQueue`](crate::node::out_queue::OutQueue)).
impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream {
    pub(super) fn kind(&self) -> HandleKind {
        match self {
            Stream::Tcp(_) => HandleKind::TcpSocket,
            Stream::Unix(_) => HandleKind::Pipe,
        }
    }

    pub(super) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    pub(super) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
        }
    }

    /// The peer's IP address (`None` for a Unix socket).
    pub(super) fn peer_addr(&self) -> Option<SocketAddr> {
        match self {
            Stream::Tcp(s) => s.peer_addr().ok(),
            Stream::Unix(_) => None,
        }
    }

    /// Whether a non-blocking connect has finished: `Ok(peer)` once it has
    /// (the peer is `None` for a Unix socket), `NotConnected` while it is
    /// still under way, or the error that failed it.
    pub(super) fn connected(&self) -> io::Result<Option<SocketAddr>> {
        match self {
            Stream::Tcp(s) => match s.take_error()? {
                Some(e) => Err(e),
                None => s.peer_addr().map(Some),
            },
            Stream::Unix(s) => match s.take_error()? {
                Some(e) => Err(e),
                None => s.peer_addr().map(|_| None),
            },
        }
    }

    /// `TCP_NODELAY`; a no-op on a Unix socket, as Node's `setNoDelay` on a
    /// pipe.
    pub(super) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nodelay(on),
            Stream::Unix(_) => Ok(()),
        }
    }

    /// `SO_KEEPALIVE`; a no-op on a Unix socket, as Node's `setKeepAlive`
    /// on a pipe.
    pub(super) fn set_keepalive(&self, on: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => socket2::SockRef::from(s).set_keepalive(on),
            Stream::Unix(_) => Ok(()),
        }
    }
}

impl Stream {
    /// The mio socket inside, for the `Source` impl.
    fn source(&mut self) -> &mut dyn Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }
}

delegate_source!(Stream);

/// A listening socket: TCP, or Unix on a path it removes when dropped.
pub(super) enum Listener {
    Tcp(mio::net::TcpListener),
    /// The socket first: it closes before its file is removed.
    Unix(mio::net::UnixListener, SocketFile),
}

impl Listener {
    pub(super) fn kind(&self) -> HandleKind {
        match self {
            Listener::Tcp(_) => HandleKind::TcpServer,
            Listener::Unix(..) => HandleKind::PipeServer,
        }
    }

    pub(super) fn accept(&self) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            Listener::Unix(l, _) => l.accept().map(|(s, _)| Stream::Unix(s)),
        }
    }

    pub(super) fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok(),
            Listener::Unix(..) => None,
        }
    }

    pub(super) fn local_path(&self) -> Option<&Path> {
        match self {
            Listener::Tcp(_) => None,
            Listener::Unix(_, file) => Some(&file.0),
        }
    }
}

impl Listener {
    /// The mio socket inside, for the `Source` impl.
    fn source(&mut self) -> &mut dyn Source {
        match self {
            Listener::Tcp(l) => l,
            Listener::Unix(l, _) => l,
        }
    }
}

delegate_source!(Listener);

/// The socket file a Unix listener is bound to: removed when this drops
/// (libuv unlinks a pipe server's path in `uv_close`, so Node's
/// `server.close()` leaves no file behind).
pub(super) struct SocketFile(pub(super) PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        // A file someone else put there since would be removed too; libuv
        // does the same.
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Binds a Unix listener on `path` (`listen` on a path): the errors Node
/// gives, `listen EADDRINUSE /tmp/x.sock` when the file exists, and a clear
/// one for a path longer than the 107 bytes a socket address holds (libuv
/// 1.46 cuts such a path short and listens on another file).
pub(super) fn bind_unix(path: &Path) -> io::Result<(mio::net::UnixListener, SocketFile)> {
    check_len(path, "listen")?;
    let socket = mio::net::UnixListener::bind(path)
        .map_err(|e| super::error::node_error_path(e, "listen", path))?;
    Ok((socket, SocketFile(path.to_path_buf())))
}

/// Connects a Unix stream to `path`, without waiting.
pub(super) fn connect_unix(path: &Path) -> io::Result<mio::net::UnixStream> {
    check_len(path, "connect")?;
    mio::net::UnixStream::connect(path)
        .map_err(|e| super::error::node_error_path(e, "connect", path))
}

/// `sun_path` holds 108 bytes with the terminating NUL.
const MAX_PATH: usize = 107;

fn check_len(path: &Path, op: &str) -> io::Result<()> {
    let len = path.as_os_str().len();
    if len > MAX_PATH {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{op} ENAMETOOLONG: a Unix socket path holds at most {MAX_PATH} bytes, \
                 this one has {len}: {}",
                path.display()
            ),
        ));
    }
    Ok(())
}

//! The future API on Unix domain sockets: [`UnixListener`] and
//! [`UnixStream`], with the methods of the TCP ones.

use std::fmt;
use std::io;
use std::path::Path;
use std::rc::Rc;

use crate::rt::walk::HandleKind;

use super::error::node_error_path;
use super::io::Io;
use super::stream::{SocketFile, bind_unix, connect_unix};

/// A listening Unix domain socket for tasks (`net.Server` on a path, with
/// `await`). Dropping it closes it and removes its socket file.
///
/// # Ordering
/// As [`TcpListener`](super::TcpListener): `accept().await` resumes in the
/// microtask checkpoint after the poll phase reports it readable; it keeps
/// the loop alive while it exists.
///
/// ```
/// use evloop::{EventLoop, spawn, net::{UnixListener, UnixStream}};
/// let path = std::env::temp_dir().join(format!("evloop-doc-fut-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// EventLoop::new().unwrap().run_main(|| {
///     let listener = UnixListener::bind(&path).unwrap();
///     let p = path.clone();
///     spawn(async move {
///         let client = UnixStream::connect(&p).await.unwrap();
///         client.write_all(b"hi").await.unwrap();
///     });
///     spawn(async move {
///         let conn = listener.accept().await.unwrap();
///         let mut buf = [0; 2];
///         assert_eq!(conn.read(&mut buf).await.unwrap(), 2);
///     });
/// });
/// assert!(!path.exists());
/// ```
pub struct UnixListener {
    io: Rc<Io<mio::net::UnixListener>>,
    /// Removes the file when the listener drops.
    file: SocketFile,
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("path", &self.file.0)
            .finish()
    }
}

impl UnixListener {
    /// Binds and listens on a socket file at `path`.
    ///
    /// # Errors
    /// As [`Server::listen_path`](super::Server::listen_path):
    /// `listen EADDRINUSE /tmp/x.sock` if the file exists,
    /// `listen ENAMETOOLONG: ...` for a path over 107 bytes.
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        // `file` removes the socket file on every way out.
        let (socket, file) = bind_unix(path.as_ref())?;
        Ok(UnixListener {
            io: Io::new(socket, HandleKind::PipeServer)?,
            file,
        })
    }

    /// The next connection.
    ///
    /// # Errors
    /// The OS error from `accept` (e.g. `EMFILE`, at once, every time: wait
    /// a little before trying again, as with
    /// [`TcpListener::accept`](super::TcpListener::accept)); the listener
    /// stays usable.
    pub async fn accept(&self) -> io::Result<UnixStream> {
        let (stream, _) =
            std::future::poll_fn(|cx| self.io.poll_op(cx, false, |l| l.accept())).await?;
        Ok(UnixStream {
            io: Io::new(stream, HandleKind::Pipe)?,
        })
    }

    /// The path it listens on.
    pub fn local_path(&self) -> &Path {
        &self.file.0
    }

    /// Lets the loop exit even though the listener is open.
    pub fn unref(&self) {
        self.io.set_ref(false);
    }
}

impl Drop for UnixListener {
    fn drop(&mut self) {
        self.io.close();
    }
}

/// A Unix domain socket connection for tasks: `read`, `write_all`,
/// `shutdown` as futures, as [`TcpStream`](super::TcpStream): `&self`
/// methods, `futures-io`'s `AsyncRead` / `AsyncWrite` (on `&UnixStream`
/// too), [`split`](UnixStream::split) and
/// [`into_split`](UnixStream::into_split).
///
/// # Ordering
/// A task waiting to read or write resumes in the microtask checkpoint
/// after the poll phase reports the socket ready. An open stream keeps the
/// loop alive; dropping it closes the connection.
pub struct UnixStream {
    pub(super) io: Rc<Io<mio::net::UnixStream>>,
}

impl Drop for UnixStream {
    fn drop(&mut self) {
        self.io.close();
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream").finish_non_exhaustive()
    }
}

impl UnixStream {
    /// Connects to the socket file at `path`.
    ///
    /// # Errors
    /// `connect ENOENT /tmp/x.sock` (no such file), `connect ECONNREFUSED
    /// /tmp/x.sock` (nobody listens), `connect ENAMETOOLONG: ...` (over 107
    /// bytes).
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let stream = UnixStream {
            io: Io::new(connect_unix(path)?, HandleKind::Pipe)?,
        };
        stream
            .io
            .connected()
            .await
            .map_err(|e| node_error_path(e, "connect", path))?;
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

    /// Ends writing: the peer reads the end; reading still works.
    ///
    /// # Errors
    /// The OS error.
    pub async fn shutdown(&self) -> io::Result<()> {
        self.io.shutdown()
    }

    /// Lets the loop exit even though the stream is open.
    pub fn unref(&self) {
        self.io.set_ref(false);
    }
}

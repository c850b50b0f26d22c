//! The futures streams ([`TcpStream`], [`UnixStream`]) in the futures
//! ecosystem: `futures-io`'s `AsyncRead` and `AsyncWrite` on each stream
//! (and on `&` of it, as std's `Read for &TcpStream`), and the halves of
//! [`TcpStream::split`] / [`TcpStream::into_split`] (the same for
//! [`UnixStream`]), each with its one direction.
//!
//! Every impl is a call to the stream's `Io` poll functions (`io.rs`), the
//! same that `read`, `write` and `write_all` await. No `AsyncBufRead`: a
//! socket holds no buffer of its own (a read goes straight into the
//! caller's buffer); wrap it in `futures::io::BufReader` for lines.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::tcp::TcpStream;
use super::unix::UnixStream;

/// The read half of a stream borrowed by `split` ([`TcpStream::split`],
/// [`UnixStream::split`]): reads, and [`AsyncRead`], while the
/// [`WriteHalf`] writes, e.g. in two branches of one task's
/// [`join!`](crate::join!).
///
/// Dropping it does nothing to the stream.
#[must_use = "a half does nothing unless read from"]
#[derive(Debug)]
pub struct ReadHalf<'a, S>(&'a S);

/// The write half of a stream borrowed by `split`: writes, and
/// [`AsyncWrite`] (whose `poll_close` ends writing, as `shutdown`).
///
/// Dropping it does nothing to the stream.
#[must_use = "a half does nothing unless written to"]
#[derive(Debug)]
pub struct WriteHalf<'a, S>(&'a S);

/// The read half of a stream taken by `into_split` ([`TcpStream::into_split`],
/// [`UnixStream::into_split`]): `'static`, so one task can own it while
/// another owns the [`OwnedWriteHalf`]. The stream closes when both halves
/// are dropped.
#[must_use = "a half does nothing unless read from"]
#[derive(Debug)]
pub struct OwnedReadHalf<S>(Rc<S>);

/// The write half of a stream taken by `into_split`. Dropping it ends
/// writing (the peer reads the end, as after `shutdown`) while the read
/// half reads on; the stream closes when both halves are dropped.
#[must_use = "a half does nothing unless written to"]
pub struct OwnedWriteHalf<S> {
    stream: Rc<S>,
    /// The stream's `shutdown` on drop; `None` once given back by `reunite`.
    end_on_drop: Option<fn(&S)>,
}

impl<S: fmt::Debug> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.stream).finish()
    }
}

impl<S> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if let Some(end) = self.end_on_drop.take() {
            end(&self.stream);
        }
    }
}

impl<S> OwnedReadHalf<S> {
    /// Puts the stream back together from the halves of one `into_split`
    /// (no shutdown happens).
    ///
    /// # Errors
    /// Both halves back, unchanged, if they come from different streams.
    pub fn reunite(
        self,
        mut write: OwnedWriteHalf<S>,
    ) -> Result<S, (OwnedReadHalf<S>, OwnedWriteHalf<S>)> {
        if !Rc::ptr_eq(&self.0, &write.stream) {
            return Err((self, write));
        }
        write.end_on_drop = None;
        drop(write);
        match Rc::try_unwrap(self.0) {
            Ok(s) => Ok(s),
            // Two `Rc`s of one stream exist only as its two halves, and the
            // write half is gone.
            Err(_) => unreachable!("a stream split in more than two halves"),
        }
    }
}

macro_rules! halves_ref {
    ($($half:ident),*) => {$(
        impl<S> AsRef<S> for $half<'_, S> {
            /// The stream, for its other methods (addresses, `unref`).
            fn as_ref(&self) -> &S {
                self.0
            }
        }
    )*};
}
halves_ref!(ReadHalf, WriteHalf);

impl<S> AsRef<S> for OwnedReadHalf<S> {
    /// The stream, for its other methods (addresses, `unref`).
    fn as_ref(&self) -> &S {
        &self.0
    }
}

impl<S> AsRef<S> for OwnedWriteHalf<S> {
    /// The stream, for its other methods (addresses, `unref`).
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

/// Everything above for one stream type: `AsyncRead`/`AsyncWrite` on the
/// stream, on `&` of it and on its halves; `split`, `into_split`; the
/// halves' `read` / `write` / `write_all` / `shutdown`.
macro_rules! byte_stream {
    ($($t:ident),*) => {$(
        impl AsyncRead for $t {
            /// Reads what is available, or registers the task for the
            /// socket's next readable edge; `Ok(0)` is the end.
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
        }

        impl AsyncRead for &$t {
            /// As on the stream: several tasks may read at once (each
            /// gets whatever bytes its read returns).
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
        }

        impl AsyncWrite for $t {
            /// Writes what the socket takes, or registers the task for
            /// its next writable edge.
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }

            /// Ready at once: nothing is buffered above the socket.
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Ends writing (`shutdown`): the peer reads the end; reading
            /// still works; the stream closes when dropped.
            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.io.shutdown())
            }
        }

        impl AsyncWrite for &$t {
            /// As on the stream.
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }

            /// Ready at once: nothing is buffered above the socket.
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Ends writing, as on the stream.
            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.io.shutdown())
            }
        }

        impl AsyncRead for ReadHalf<'_, $t> {
            /// As on the stream.
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.0.io.poll_read(cx, buf)
            }
        }

        impl AsyncRead for OwnedReadHalf<$t> {
            /// As on the stream.
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.0.io.poll_read(cx, buf)
            }
        }

        impl AsyncWrite for WriteHalf<'_, $t> {
            /// As on the stream.
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.0.io.poll_write(cx, buf)
            }

            /// Ready at once: nothing is buffered above the socket.
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Ends writing; the read half reads on.
            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.0.io.shutdown())
            }
        }

        impl AsyncWrite for OwnedWriteHalf<$t> {
            /// As on the stream.
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.stream.io.poll_write(cx, buf)
            }

            /// Ready at once: nothing is buffered above the socket.
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Ends writing; the read half reads on.
            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.stream.io.shutdown())
            }
        }

        impl $t {
            /// Borrows the stream as a read half and a write half, so one
            /// part of a task reads while another writes (e.g. the two
            /// branches of a [`join!`](crate::join!)); each half has its
            /// direction's methods and `futures-io` trait. For halves that
            /// two spawned tasks own, [`into_split`](Self::into_split).
            ///
            /// With `futures::io::AsyncReadExt` in scope, `stream.split()`
            /// names that trait's (by-value, lock-based) `split`; write
            #[doc = concat!("`", stringify!($t), "::split(&mut stream)`.")]
            pub fn split(&mut self) -> (ReadHalf<'_, $t>, WriteHalf<'_, $t>) {
                (ReadHalf(self), WriteHalf(self))
            }

            /// Splits the stream into owned halves for two tasks. Dropping
            /// the write half ends writing; the stream closes once both are
            /// dropped; [`OwnedReadHalf::reunite`] puts it back together.
            pub fn into_split(self) -> (OwnedReadHalf<$t>, OwnedWriteHalf<$t>) {
                let stream = Rc::new(self);
                let end: fn(&$t) = |s| {
                    // Nobody is left to hear an error (as a drop's close).
                    let _ = s.io.shutdown();
                };
                (
                    OwnedReadHalf(stream.clone()),
                    OwnedWriteHalf { stream, end_on_drop: Some(end) },
                )
            }
        }

        impl ReadHalf<'_, $t> {
            /// The stream's `read`: what is available, waiting for at
            /// least one byte; `Ok(0)` means the peer ended.
            ///
            /// # Errors
            /// The OS error (e.g. `ECONNRESET`).
            pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
                self.0.io.read(buf).await
            }
        }

        impl OwnedReadHalf<$t> {
            /// The stream's `read`: what is available, waiting for at
            /// least one byte; `Ok(0)` means the peer ended.
            ///
            /// # Errors
            /// The OS error (e.g. `ECONNRESET`).
            pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
                self.0.io.read(buf).await
            }
        }

        impl WriteHalf<'_, $t> {
            /// The stream's `write`: some of `buf`, waiting until the
            /// socket takes at least one byte.
            ///
            /// # Errors
            /// The OS error (e.g. `EPIPE`).
            pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
                self.0.io.write(buf).await
            }

            /// The stream's `write_all`: all of `buf`, waiting as needed.
            ///
            /// # Errors
            /// The OS error; some of `buf` may have been written.
            pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
                self.0.io.write_all(buf).await
            }

            /// Ends writing: the peer reads the end; the read half reads on.
            ///
            /// # Errors
            /// The OS error.
            pub async fn shutdown(&self) -> io::Result<()> {
                self.0.io.shutdown()
            }
        }

        impl OwnedWriteHalf<$t> {
            /// The stream's `write`: some of `buf`, waiting until the
            /// socket takes at least one byte.
            ///
            /// # Errors
            /// The OS error (e.g. `EPIPE`).
            pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
                self.stream.io.write(buf).await
            }

            /// The stream's `write_all`: all of `buf`, waiting as needed.
            ///
            /// # Errors
            /// The OS error; some of `buf` may have been written.
            pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
                self.stream.io.write_all(buf).await
            }

            /// Ends writing now (dropping the half would too): the peer
            /// reads the end; the read half reads on.
            ///
            /// # Errors
            /// The OS error.
            pub async fn shutdown(&self) -> io::Result<()> {
                self.stream.io.shutdown()
            }
        }
    )*};
}
byte_stream!(TcpStream, UnixStream);

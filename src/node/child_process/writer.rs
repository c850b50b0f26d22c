//! A child's stdin: [`ChildWriter`], the write end of a pipe on the
//! reactor, with Node's `write` (queued, backpressure from 16 KiB, `drain`),
//! `end` (the child then reads EOF) and `error` (`write EPIPE` once the
//! child has closed its end).

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use mio::unix::pipe::Sender;

use crate::futures::promise::{Deferred, Resolver, deferred};
use crate::node::net::handler::{Handler, call};
use crate::node::out_queue::{Flush, OutQueue};
use crate::node::write_waiter::WriteWaiter;
use crate::rt::callback::Callback;
use crate::rt::context::with_core;
use crate::rt::core::Core;
use crate::rt::reactor::{Ready, Registration};
use crate::rt::walk::HandleKind;

/// Node's default `highWaterMark` for a pipe: `write` asks the caller to
/// wait for `drain` once this much is queued.
const HIGH_WATER: usize = 16 * 1024;

pub(super) struct WriterInner {
    pipe: RefCell<Option<Sender>>,
    reg: RefCell<Option<Registration>>,
    out: RefCell<OutQueue>,
    need_drain: Cell<bool>,
    ending: Cell<bool>,
    closed: Cell<bool>,
    /// The user's choice; the pipe keeps the loop alive only while it also
    /// has something to write (an idle libuv stream is not active).
    referenced: Cell<bool>,
    drain: Handler<()>,
    error: Handler<io::Error>,
    /// [`ChildWriter::write_all`]s waiting for the queue to empty.
    flushed: RefCell<Vec<Resolver<io::Result<()>>>>,
    /// The `AsyncWrite` caller waiting for room, the flush or the close,
    /// and why the pipe broke (`write EPIPE`).
    waiter: WriteWaiter,
}

/// The write end of a child's stdin pipe (Node's `child.stdin`).
///
/// [`write`](ChildWriter::write) queues and returns `false` once 16 KiB or
/// more waits (then wait for `drain`); [`end`](ChildWriter::end) closes the
/// pipe after the queue is written, so the child reads EOF. Writing to a
/// child that has closed its stdin (or exited) is an `error` event with
/// `write EPIPE`; the data is dropped. The pipe keeps the loop alive only
/// while data waits to be written. It is also a `futures-io`
/// `AsyncWrite`, bounded at 16 KiB queued (see that impl).
#[derive(Clone)]
pub struct ChildWriter {
    pub(super) inner: Rc<WriterInner>,
}

impl std::fmt::Debug for ChildWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildWriter")
            .field("queued", &self.inner.out.borrow().len())
            .field("closed", &self.inner.closed.get())
            .finish()
    }
}

impl WriterInner {
    pub(super) fn new(core: &Core, mut pipe: Sender) -> io::Result<Rc<WriterInner>> {
        pipe.set_nonblocking(true)?;
        let inner = Rc::new(WriterInner {
            pipe: RefCell::new(None),
            reg: RefCell::new(None),
            out: RefCell::default(),
            need_drain: Cell::new(false),
            ending: Cell::new(false),
            closed: Cell::new(false),
            referenced: Cell::new(true),
            drain: RefCell::new(None),
            error: RefCell::new(None),
            flushed: RefCell::new(Vec::new()),
            waiter: WriteWaiter::default(),
        });
        let reg = Registration::new(core, &mut pipe, inner.clone(), HandleKind::Pipe)?;
        reg.set_ref(false);
        *inner.pipe.borrow_mut() = Some(pipe);
        *inner.reg.borrow_mut() = Some(reg);
        Ok(inner)
    }

    fn update_ref(&self) {
        if let Some(reg) = &*self.reg.borrow() {
            reg.set_ref(self.referenced.get() && !self.out.borrow().is_empty());
        }
    }

    /// Writes queued data until `WouldBlock`; closes the pipe once ending
    /// and empty.
    fn flush(self: &Rc<Self>) {
        if self.closed.get() {
            return;
        }
        let (_, flushed) = match self.pipe.borrow_mut().as_mut() {
            Some(p) => self.out.borrow_mut().write_to(p),
            None => return,
        };
        match flushed {
            Flush::Done => {}
            Flush::WouldBlock => {
                self.update_ref();
                self.waiter.wake();
                return;
            }
            Flush::Failed(e) => {
                self.fail(e);
                return;
            }
        }
        self.update_ref();
        self.settle_flushed(|| Ok(()));
        self.waiter.wake();
        if self.ending.get() {
            self.close();
            return;
        }
        if self.need_drain.replace(false) {
            // Never from inside `write`: Node emits `drain` on a later tick.
            let me = self.clone();
            with_core("ChildWriter::drain", |core| {
                core.push_tick(Callback::new(
                    move || {
                        if !me.closed.get() && me.out.borrow().is_empty() {
                            call(&me.drain, ());
                        }
                    },
                    std::panic::Location::caller(),
                ))
            });
        }
    }

    /// An error (`write EPIPE`): the queue is dropped, the pipe closed, and
    /// the `error` handler runs on a next tick.
    fn fail(self: &Rc<Self>, e: io::Error) {
        let code = match e.raw_os_error() {
            Some(libc::EPIPE) => "EPIPE",
            Some(n) => crate::node::fs::errno_name(n).0,
            None => "EUNKNOWN",
        };
        let message = format!("write {code}");
        let kind = e.kind();
        self.waiter.fail(kind, message.clone());
        self.settle_flushed(|| Err(io::Error::new(kind, message.clone())));
        self.close();
        let e = io::Error::new(e.kind(), message);
        // On a later tick, as Node's `errorOrDestroy`: never from inside
        // `write`.
        let me = self.clone();
        with_core("ChildWriter::write", |core| {
            core.push_tick(Callback::new(
                move || call(&me.error, e),
                std::panic::Location::caller(),
            ));
        });
    }

    /// Closes the pipe now, dropping what is queued (Node destroys a
    /// child's stdin when the child exits).
    pub(super) fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        self.settle_flushed(destroyed);
        self.out.borrow_mut().clear();
        self.waiter.wake();
        let reg = self.reg.borrow_mut().take();
        let pipe = self.pipe.borrow_mut().take();
        if let (Some(mut p), Some(reg)) = (pipe, reg) {
            drop(reg.deregister(&mut p));
        }
    }

    /// Settles every waiting `write_all` with `result()`.
    fn settle_flushed(&self, result: impl Fn() -> io::Result<()>) {
        let waiters = std::mem::take(&mut *self.flushed.borrow_mut());
        for w in waiters {
            w.resolve(result());
        }
    }

    fn write(self: &Rc<Self>, data: Vec<u8>) -> bool {
        if self.closed.get() || self.ending.get() {
            let e = if self.ending.get() {
                io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "ERR_STREAM_WRITE_AFTER_END: write after end",
                )
            } else {
                destroyed().unwrap_err()
            };
            let me = self.clone();
            // Reported on a later tick, never from inside `write`.
            with_core("ChildWriter::write", |core| {
                core.push_tick(Callback::new(
                    move || call(&me.error, e),
                    std::panic::Location::caller(),
                ));
            });
            return false;
        }
        if !data.is_empty() {
            self.out.borrow_mut().push(data);
            self.flush();
        }
        if self.closed.get() {
            return false; // the pipe broke during this write
        }
        let ok = self.out.borrow().len() < HIGH_WATER;
        if !ok {
            self.need_drain.set(true);
        }
        ok
    }
}

/// Node's error for a write to a destroyed stream.
fn destroyed() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::BrokenPipe,
        "ERR_STREAM_DESTROYED: Cannot call write after a stream was destroyed",
    ))
}

impl Ready for WriterInner {
    fn ready(self: Rc<Self>, _readable: bool, writable: bool) {
        if writable {
            self.flush();
        }
    }

    fn teardown(&self) {
        drop(self.reg.borrow_mut().take());
        self.closed.set(true);
        drop(self.pipe.borrow_mut().take());
        self.out.borrow_mut().clear();
        drop((self.drain.take(), self.error.take()));
        self.flushed.borrow_mut().clear();
        self.waiter.forget();
    }
}

/// The future of [`ChildWriter::write_all`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Flushed {
    deferred: Deferred<io::Result<()>>,
}

impl std::future::Future for Flushed {
    type Output = io::Result<()>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.deferred)
            .poll(cx)
            .map(|r| r.unwrap_or_else(|_| destroyed()))
    }
}

impl ChildWriter {
    /// Queues `data` for the child's stdin and tries to write it now.
    /// Returns `false` once 16 KiB or more is queued, or if the pipe is
    /// closed (then `error` follows): wait for `drain`
    /// (backpressure); the data is queued either way. After `end`, or once
    /// the pipe broke or the child exited, the data is dropped and `error`
    /// follows on a later tick (`ERR_STREAM_WRITE_AFTER_END`,
    /// `ERR_STREAM_DESTROYED`).
    pub fn write(&self, data: impl Into<Vec<u8>>) -> bool {
        self.inner.write(data.into())
    }

    /// The future style of `write` with backpressure: queues `data` and
    /// resolves once everything queued so far has been handed to the pipe
    /// (Node's `await once(stdin, 'drain')` after a `false`). Fails with
    /// `write EPIPE` if the child closes its stdin first, or as
    /// [`write`](ChildWriter::write) does after `end` or the child's exit.
    ///
    /// ```
    /// use evloop::child_process::{self, SpawnOptions};
    /// evloop::run_async(async {
    ///     let child = child_process::spawn("cat", [""; 0], SpawnOptions::default()).unwrap();
    ///     // Read what `cat` echoes, or it blocks and stops reading.
    ///     child.stdout().unwrap().on_data(|_| {});
    ///     let stdin = child.stdin().unwrap();
    ///     stdin.write_all(vec![b'x'; 1 << 20]).await.unwrap();
    ///     stdin.end();
    ///     assert!(child.wait().await.unwrap().success());
    /// });
    /// ```
    pub fn write_all(&self, data: impl Into<Vec<u8>>) -> Flushed {
        let (resolver, deferred) = deferred();
        let inner = &self.inner;
        if inner.closed.get() || inner.ending.get() {
            resolver.resolve(if inner.ending.get() {
                Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "ERR_STREAM_WRITE_AFTER_END: write after end",
                ))
            } else {
                destroyed()
            });
            return Flushed { deferred };
        }
        inner.flushed.borrow_mut().push(resolver);
        self.write(data);
        if inner.out.borrow().is_empty() && !inner.closed.get() {
            inner.settle_flushed(|| Ok(())); // nothing was left to wait for
        }
        Flushed { deferred }
    }

    /// Closes stdin once the queue is written: the child reads EOF.
    pub fn end(&self) {
        if self.inner.ending.replace(true) {
            return;
        }
        if self.inner.out.borrow().is_empty() {
            self.inner.close();
        }
    }

    /// Writes `data`, then ends.
    pub fn end_with(&self, data: impl Into<Vec<u8>>) {
        self.write(data);
        self.end();
    }

    /// Sets the `drain` handler: the queue emptied after
    /// [`write`](ChildWriter::write) returned `false`.
    pub fn on_drain(&self, mut handler: impl FnMut() + 'static) -> &ChildWriter {
        *self.inner.drain.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// Sets the `error` handler: `write EPIPE` when the child closed its
    /// end, `ERR_STREAM_WRITE_AFTER_END: write after end` after `end`.
    pub fn on_error(&self, handler: impl FnMut(io::Error) + 'static) -> &ChildWriter {
        *self.inner.error.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Bytes queued and not yet written (`writableLength`).
    pub fn buffered(&self) -> usize {
        self.inner.out.borrow().len()
    }

    /// Lets the loop exit while writes are pending.
    pub fn unref(&self) {
        self.inner.referenced.set(false);
        self.inner.update_ref();
    }

    /// Makes pending writes keep the loop alive again (the default).
    pub fn ref_(&self) {
        self.inner.referenced.set(true);
        self.inner.update_ref();
    }
}

/// The child's stdin as a `futures-io` writer, on the same queue as
/// [`ChildWriter::write`], bounded: a write takes what fits below 16 KiB
/// and waits while the queue is full; flushing waits until the queue is written, and closing
/// is [`end`](ChildWriter::end), then waiting until the pipe is closed.
/// After `end`, a write fails with `ERR_STREAM_WRITE_AFTER_END`; once the
/// child closed its end, every call fails with `write EPIPE`.
impl AsyncWrite for ChildWriter {
    /// Queues as much of `buf` as fits below 16 KiB (and tries to write
    /// it now), or waits for room.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let inner = &self.inner;
        if inner.ending.get() && inner.waiter.failure().is_none() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "ERR_STREAM_WRITE_AFTER_END: write after end",
            )));
        }
        if inner.closed.get() && inner.waiter.failure().is_none() {
            return Poll::Ready(destroyed().map(|()| 0));
        }
        match inner
            .waiter
            .poll_until(cx, inner.out.borrow().len() < HIGH_WATER)
        {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        // At most what fits below the mark: the queue stays bounded.
        let n = buf.len().min(HIGH_WATER - inner.out.borrow().len());
        if n > 0 {
            inner.write(buf[..n].to_vec());
        }
        match inner.waiter.failure() {
            // The pipe broke during this write: the bytes were dropped.
            Some(e) => Poll::Ready(Err(e)),
            None => Poll::Ready(Ok(n)),
        }
    }

    /// Waits until everything queued has been handed to the pipe.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner
            .waiter
            .poll_until(cx, self.inner.out.borrow().is_empty())
    }

    /// [`end`](ChildWriter::end)s stdin and waits until the queue is
    /// written and the pipe closed: the child then reads EOF.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.end();
        self.inner.waiter.poll_until(cx, self.inner.closed.get())
    }
}

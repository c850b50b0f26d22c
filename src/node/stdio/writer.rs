//! `process.stdout` / `process.stderr`: [`StdWriter`], a queue per stream
//! written by one writer thread per stream for the process.
//!
//! `write` hands the bytes to the thread (a channel: order kept) with a
//! referenced [`LoopHandle`]; the thread writes them with a blocking
//! `write` (std's `Stdout` / `Stderr`, flushed each time, so `println!`
//! output interleaves in order) and posts the completion back, which
//! counts the bytes down and brings `drain`. The loop never blocks on a
//! slow reader; its pending writes keep it alive, so a main script's
//! output is all written before `run` returns.

use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use crossbeam_channel::Sender;

use crate::node::net::handler::{Handler, call};
use crate::node::signal::{Signal, SignalError, SignalListener, on_signal};
use crate::node::write_waiter::WriteWaiter;
use crate::rt::callback::Callback;
use crate::rt::context::{on_loop_drop, with_core};
use crate::rt::remote::LoopHandle;

/// Node's default `highWaterMark`: `write` asks the caller to wait for
/// `drain` once this much is queued.
const HIGH_WATER: usize = 16 * 1024;

/// Which standard stream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fd {
    Out,
    Err,
}

/// A write for the thread, and where to report it.
struct Job {
    data: Vec<u8>,
    loop_id: u32,
    handle: LoopHandle,
}

/// The writer thread of `fd`, started on first use.
fn sender(fd: Fd) -> &'static Sender<Job> {
    static OUT: OnceLock<Sender<Job>> = OnceLock::new();
    static ERR: OnceLock<Sender<Job>> = OnceLock::new();
    let cell = if fd == Fd::Out { &OUT } else { &ERR };
    cell.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        std::thread::Builder::new()
            .name(format!("evloop-{fd:?}").to_lowercase())
            .spawn(move || {
                for job in rx {
                    let r = match fd {
                        Fd::Out => {
                            let mut out = io::stdout().lock();
                            out.write_all(&job.data).and_then(|()| out.flush())
                        }
                        Fd::Err => io::stderr().lock().write_all(&job.data),
                    };
                    let (id, len) = (job.loop_id, job.data.len());
                    let err = r.err().map(|e| (e.kind(), e.raw_os_error()));
                    // A loop gone meanwhile has nobody to tell.
                    let _ = job.handle.post(move || completed(fd, id, len, err));
                }
            })
            .expect("spawning a stdout/stderr writer thread");
        tx
    })
}

/// One loop's side of one stream.
struct WriterInner {
    loop_id: u32,
    fd: Fd,
    queued: Cell<usize>,
    need_drain: Cell<bool>,
    /// A write failed (`EPIPE`): later writes are dropped.
    broken: Cell<bool>,
    drain: Handler<()>,
    error: Handler<io::Error>,
    /// The `AsyncWrite` caller waiting for room or the flush, and why a
    /// write failed (`write EPIPE`).
    waiter: WriteWaiter,
}

thread_local! {
    static WRITERS: RefCell<Vec<Rc<WriterInner>>> = const { RefCell::new(Vec::new()) };
}

fn drop_writers(id: u32) -> usize {
    WRITERS
        .try_with(|w| {
            let mut w = w.borrow_mut();
            let before = w.len();
            w.retain(|i| i.loop_id != id);
            before - w.len()
        })
        .unwrap_or(0)
}

/// A write of `len` bytes finished on the thread (posted to loop `id`).
fn completed(fd: Fd, id: u32, len: usize, err: Option<(io::ErrorKind, Option<i32>)>) {
    let me = WRITERS
        .try_with(|w| {
            w.borrow()
                .iter()
                .find(|i| i.loop_id == id && i.fd == fd)
                .cloned()
        })
        .ok()
        .flatten();
    let Some(me) = me else { return };
    me.queued.set(me.queued.get() - len);
    if let Some((kind, raw)) = err {
        if !me.broken.replace(true) {
            let code = match raw {
                Some(libc::EPIPE) => "EPIPE",
                Some(n) => crate::node::fs::errno_name(n).0,
                None => "EUNKNOWN",
            };
            me.waiter.fail(kind, format!("write {code}"));
            let e = io::Error::new(kind, format!("write {code}"));
            let m = me.clone();
            tick(move || call(&m.error, e));
        }
        me.waiter.wake();
        return;
    }
    me.waiter.wake();
    if me.queued.get() == 0 && me.need_drain.replace(false) {
        let m = me.clone();
        tick(move || call(&m.drain, ()));
    }
}

#[track_caller]
fn tick(f: impl FnOnce() + 'static) {
    with_core("StdWriter", |core| {
        core.push_tick(Callback::new(f, std::panic::Location::caller()));
    });
}

/// `process.stdout` or `process.stderr` for the current loop: see
/// [`stdout`].
///
/// [`write`](StdWriter::write) never blocks the loop: the bytes go to a
/// writer thread, in order, and `write` returns `false` once 16 KiB or
/// more wait (then wait for `drain`, as on any Node stream). Pending
/// writes keep the loop alive, so everything written is out before a main
/// script's `run` returns. A write that fails (`EPIPE` once the reader
/// closed the pipe; `SIGPIPE` is ignored, so the process lives) is an
/// `error` event with `write EPIPE` on a next tick; later writes are
/// dropped. It is also a `futures-io` `AsyncWrite`, bounded at 16 KiB
/// queued (see that impl).
#[derive(Clone)]
pub struct StdWriter {
    inner: Rc<WriterInner>,
}

impl std::fmt::Debug for StdWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdWriter")
            .field("fd", &self.inner.fd)
            .field("queued", &self.inner.queued.get())
            .finish()
    }
}

fn writer(fd: Fd, what: &str) -> StdWriter {
    let loop_id = with_core(what, |core| core.id());
    on_loop_drop("stdout", drop_writers);
    let inner = WRITERS.with(|w| {
        let mut w = w.borrow_mut();
        if let Some(i) = w.iter().find(|i| i.loop_id == loop_id && i.fd == fd) {
            return i.clone();
        }
        let inner = Rc::new(WriterInner {
            loop_id,
            fd,
            queued: Cell::new(0),
            need_drain: Cell::new(false),
            broken: Cell::new(false),
            drain: RefCell::new(None),
            error: RefCell::new(None),
            waiter: WriteWaiter::default(),
        });
        w.push(inner.clone());
        inner
    });
    StdWriter { inner }
}

/// `process.stdout` for the current loop (every call on one loop returns
/// the same stream); see [`StdWriter`].
///
/// ```
/// evloop::run(|| {
///     let out = evloop::process::stdout();
///     assert!(out.write("hello from the writer thread\n"));
/// });
/// ```
///
/// # Panics
/// If no event loop is running on this thread.
pub fn stdout() -> StdWriter {
    writer(Fd::Out, "process::stdout")
}

/// `process.stderr` for the current loop; see [`StdWriter`].
///
/// # Panics
/// If no event loop is running on this thread.
pub fn stderr() -> StdWriter {
    writer(Fd::Err, "process::stderr")
}

impl StdWriter {
    /// Queues `data` for the writer thread. Returns `false` once 16 KiB or
    /// more is queued (wait for `drain`) or after the stream broke (the
    /// data is then dropped).
    pub fn write(&self, data: impl Into<Vec<u8>>) -> bool {
        let inner = &self.inner;
        if inner.broken.get() {
            return false;
        }
        let data = data.into();
        if data.is_empty() {
            return inner.queued.get() < HIGH_WATER;
        }
        inner.queued.set(inner.queued.get() + data.len());
        let job = Job {
            data,
            loop_id: inner.loop_id,
            handle: crate::rt::current::handle(),
        };
        // The thread never ends while the process runs.
        drop(sender(inner.fd).send(job));
        let ok = inner.queued.get() < HIGH_WATER;
        if !ok {
            inner.need_drain.set(true);
        }
        ok
    }

    /// Sets the `drain` handler: everything queued was written after
    /// [`write`](StdWriter::write) returned `false`.
    pub fn on_drain(&self, mut handler: impl FnMut() + 'static) -> &StdWriter {
        *self.inner.drain.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// Sets the `error` handler: `write EPIPE` when the reader is gone.
    pub fn on_error(&self, handler: impl FnMut(io::Error) + 'static) -> &StdWriter {
        *self.inner.error.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Bytes queued and not yet written (`writableLength`).
    pub fn buffered(&self) -> usize {
        self.inner.queued.get()
    }

    /// Whether this stream is a terminal (`isTTY`).
    pub fn is_tty(&self) -> bool {
        use std::io::IsTerminal;
        match self.inner.fd {
            Fd::Out => io::stdout().is_terminal(),
            Fd::Err => io::stderr().is_terminal(),
        }
    }

    /// The terminal's width in columns (`columns`); `None` when this stream
    /// is not a terminal.
    pub fn columns(&self) -> Option<u16> {
        self.window_size().map(|(c, _)| c)
    }

    /// The terminal's height in rows (`rows`); `None` when not a terminal.
    pub fn rows(&self) -> Option<u16> {
        self.window_size().map(|(_, r)| r)
    }

    /// `(columns, rows)` (`getWindowSize()`); `None` when not a terminal.
    pub fn window_size(&self) -> Option<(u16, u16)> {
        super::window_size(match self.inner.fd {
            Fd::Out => 1,
            Fd::Err => 2,
        })
    }

    /// The `resize` event: `handler` gets `(columns, rows)` after each
    /// `SIGWINCH` while this stream is a terminal, in the poll phase of
    /// the signal (see [`on_signal`](crate::process::on_signal); the
    /// listener is unref'd, as signal listeners are, and stops when
    /// dropped).
    ///
    /// # Errors
    /// As [`on_signal`](crate::process::on_signal).
    pub fn on_resize(
        &self,
        handler: impl FnMut((u16, u16)) + 'static,
    ) -> Result<SignalListener, SignalError> {
        let me = self.clone();
        let handler = RefCell::new(handler);
        on_signal(Signal::Winch, move |_| {
            if let Some(size) = me.window_size() {
                (handler.borrow_mut())(size);
            }
        })
    }
}

/// The stream as a `futures-io` writer, on [`StdWriter::write`]'s queue,
/// bounded: a write takes what fits below 16 KiB and waits while the
/// queue is full; flushing waits until the writer thread has written everything queued.
/// Closing only flushes: the process's stdout or stderr stays open (as
/// Node's `process.stdout` cannot be closed). After a failed write
/// (`write EPIPE`), every call fails with that error.
impl AsyncWrite for StdWriter {
    /// Queues as much of `buf` as fits below 16 KiB, or waits for room.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self
            .inner
            .waiter
            .poll_until(cx, self.inner.queued.get() < HIGH_WATER)
        {
            Poll::Ready(Ok(())) => {
                // At most what fits below the mark: the queue stays bounded.
                let n = buf.len().min(HIGH_WATER - self.inner.queued.get());
                self.write(&buf[..n]);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Waits until the writer thread has written everything queued.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner
            .waiter
            .poll_until(cx, self.inner.queued.get() == 0)
    }

    /// Flushes; the stream stays open.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

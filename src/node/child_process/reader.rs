//! A child's stdout or stderr: [`ChildReader`], the read end of a pipe on
//! the reactor, with Node's `data` and `end` events, a lines helper in both
//! styles ([`ChildReader::on_line`], [`ChildReader::lines`]), the chunks
//! as a stream ([`ChildReader::chunks`]), pause and
//! resume, and the stream's close, which the child counts before its own
//! `close` event.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead};

use std::os::unix::net::UnixStream;

use crate::node::chunk_cursor::ChunkCursor;
use crate::node::item_stream::{Flow, ItemQueue, ItemStream};
use crate::node::net::handler::{Handler, Lent, call};
use crate::rt::callback::Callback;
use crate::rt::context::{try_with_core, with_core};
use crate::rt::core::Core;
use crate::rt::reactor::{Ready, Registration};
use crate::rt::walk::HandleKind;

/// Reads per readiness event before yielding to other sources (libuv: 32).
const READS_PER_EVENT: usize = 32;
const READ_BUF: usize = 64 * 1024;

thread_local! {
    /// One read buffer per thread, lent to whichever pipe is reading (as
    /// sockets do): a fresh zeroed 64 KiB per readiness event cost a
    /// memset per pipe-full.
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The thread's read buffer while one `read_some` holds it; given back on
/// drop (a nested reader, which cannot happen today, would get a fresh one).
struct LentBuf(Vec<u8>);

impl LentBuf {
    fn take() -> LentBuf {
        let mut buf = BUF.with(|b| std::mem::take(&mut *b.borrow_mut()));
        if buf.len() < READ_BUF {
            buf.resize(READ_BUF, 0);
        }
        LentBuf(buf)
    }
}

impl Drop for LentBuf {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        let _ = BUF.try_with(|b| *b.borrow_mut() = buf);
    }
}

/// The `data` handler's slot: its argument borrows the read buffer.
type DataHandler = RefCell<Option<Box<dyn FnMut(&[u8])>>>;

pub(super) struct ReaderInner {
    pipe: RefCell<Option<mio::net::UnixStream>>,
    reg: RefCell<Option<Registration>>,
    data: DataHandler,
    end: Handler<()>,
    paused: Cell<bool>,
    /// Nobody will read: chunks are dropped (Node's `flushStdio` resumes a
    /// stream nobody consumed once the child exits, so `close` can come).
    discard: Cell<bool>,
    eof: Cell<bool>,
    closed: Cell<bool>,
    read_deferred: Cell<bool>,
    /// Told once, in the close phase, when the stream has closed: the
    /// child counts it before its own `close` event.
    on_closed: RefCell<Option<Box<dyn FnOnce()>>>,
}

/// The read end of a child's stdout or stderr pipe (Node's
/// `child.stdout` / `child.stderr`).
///
/// # Events
/// `data` ([`on_data`](ChildReader::on_data)): each chunk as it is read, in
/// the poll phase, each followed by the next-tick/microtask drain; reading
/// starts when a handler is set (Node's flowing mode) and stops while
/// [`pause`](ChildReader::pause)d. `end`: the child closed its end (a next
/// tick after the last chunk). Then the stream closes, in the close phase.
/// If nobody reads by the time the child exits, the rest of the output is
/// discarded so the child's `close` event can come, as Node does.
#[derive(Clone)]
pub struct ChildReader {
    pub(super) inner: Rc<ReaderInner>,
}

impl std::fmt::Debug for ChildReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildReader")
            .field("ended", &self.inner.eof.get())
            .finish()
    }
}

impl ReaderInner {
    pub(super) fn new(
        core: &Core,
        pipe: UnixStream,
        on_closed: Box<dyn FnOnce()>,
    ) -> io::Result<Rc<ReaderInner>> {
        pipe.set_nonblocking(true)?;
        let mut pipe = mio::net::UnixStream::from_std(pipe);
        let inner = Rc::new(ReaderInner {
            pipe: RefCell::new(None),
            reg: RefCell::new(None),
            data: RefCell::new(None),
            end: RefCell::new(None),
            paused: Cell::new(false),
            discard: Cell::new(false),
            eof: Cell::new(false),
            closed: Cell::new(false),
            read_deferred: Cell::new(false),
            on_closed: RefCell::new(Some(on_closed)),
        });
        let reg = Registration::new(core, &mut pipe, inner.clone(), HandleKind::Pipe)?;
        *inner.pipe.borrow_mut() = Some(pipe);
        *inner.reg.borrow_mut() = Some(reg);
        Ok(inner)
    }

    fn flowing(&self) -> bool {
        self.discard.get() || (!self.paused.get() && self.data.borrow().is_some())
    }

    /// The child exited: if nobody reads this stream, drop what is left.
    pub(super) fn flush_unread(self: &Rc<Self>) {
        if !self.closed.get() && self.data.borrow().is_none() {
            self.discard.set(true);
            self.defer_read();
        }
    }

    /// Nobody will read any more: drop the handler and the rest.
    fn discard_rest(self: &Rc<Self>) {
        drop(self.data.take());
        self.paused.set(false);
        self.flush_unread();
    }

    fn emit_data(&self, chunk: &[u8]) {
        if self.discard.get() && self.data.borrow().is_none() {
            return;
        }
        if let Some(mut lent) = Lent::take(&self.data) {
            lent.handler()(chunk);
        }
        try_with_core(|core| core.drain_now());
    }

    /// Reads until `WouldBlock`, the end, or the per-event budget.
    fn read_some(self: &Rc<Self>) {
        let _resume = ReadOnAfterPanic(self);
        let mut lent = LentBuf::take();
        let buf = &mut lent.0;
        for _ in 0..READS_PER_EVENT {
            if self.closed.get() || self.eof.get() || !self.flowing() {
                return;
            }
            let r = match self.pipe.borrow_mut().as_mut() {
                Some(p) => p.read(buf),
                None => return,
            };
            match r {
                Ok(0) => {
                    self.eof.set(true);
                    self.schedule_end();
                    return;
                }
                Ok(n) => self.emit_data(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    // A read error on a pipe (EIO at most): treat as the end.
                    self.eof.set(true);
                    self.schedule_end();
                    return;
                }
            }
        }
        self.defer_read();
    }

    fn defer_read(self: &Rc<Self>) {
        if self.read_deferred.replace(true) {
            return;
        }
        let me = self.clone();
        try_with_core(|core| {
            core.defer_pending(Callback::new(
                move || {
                    me.read_deferred.set(false);
                    me.read_some();
                },
                std::panic::Location::caller(),
            ));
        });
    }

    /// `end` on a later tick (Node's `endReadableNT`), then the close.
    fn schedule_end(self: &Rc<Self>) {
        let me = self.clone();
        with_core("ChildReader::end", |core| {
            core.push_tick(Callback::new(
                move || {
                    if me.closed.get() {
                        return; // destroyed meanwhile: no `end`
                    }
                    // Closed first (its event comes in the close phase
                    // anyway), so a panicking `end` handler cannot keep
                    // the pipe open.
                    me.close();
                    call(&me.end, ());
                },
                std::panic::Location::caller(),
            ));
        });
    }

    /// Closes the pipe; the child hears of it in the close phase.
    fn close(self: &Rc<Self>) {
        if self.closed.replace(true) {
            return;
        }
        let reg = self.reg.borrow_mut().take();
        let own = reg.as_ref().and_then(Registration::core);
        let pipe = self.pipe.borrow_mut().take();
        if let (Some(mut p), Some(reg)) = (pipe, reg) {
            drop(reg.deregister(&mut p));
        }
        let me = self.clone();
        let queue = move |core: &Core| {
            core.push_close(Callback::new(
                move || {
                    let hook = me.on_closed.borrow_mut().take();
                    me.drop_handlers();
                    if let Some(hook) = hook {
                        hook();
                    }
                },
                std::panic::Location::caller(),
            ));
        };
        match own {
            Some(core) => queue(&core),
            None => {
                try_with_core(queue);
            }
        }
    }

    fn drop_handlers(&self) {
        drop((self.data.take(), self.end.take()));
    }
}

/// Reading stopped by a panic in a `data` handler goes on in the next
/// pending phase: the pipe may hold more, and an edge-triggered source
/// will not report it again until the child writes more.
struct ReadOnAfterPanic<'a>(&'a Rc<ReaderInner>);

impl Drop for ReadOnAfterPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.defer_read();
        }
    }
}

impl Ready for ReaderInner {
    fn ready(self: Rc<Self>, readable: bool, _writable: bool) {
        if readable {
            self.read_some();
        }
    }

    fn teardown(&self) {
        drop(self.reg.borrow_mut().take());
        self.closed.set(true);
        drop(self.pipe.borrow_mut().take());
        drop(self.on_closed.borrow_mut().take());
        self.drop_handlers();
    }
}

impl ChildReader {
    /// Sets the `data` handler (replacing any): each chunk as it is read.
    /// Reading starts (or goes on) at once.
    pub fn on_data(&self, handler: impl FnMut(&[u8]) + 'static) -> &ChildReader {
        *self.inner.data.borrow_mut() = Some(Box::new(handler));
        self.inner.defer_read();
        self
    }

    /// Sets the `end` handler: the child closed this stream; no more data.
    pub fn on_end(&self, mut handler: impl FnMut() + 'static) -> &ChildReader {
        *self.inner.end.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// The lines helper (Node's `readline` over the stream): `handler` gets
    /// each line without its `\n` (a `\r\n` loses the `\r` too), decoded as
    /// UTF-8 (invalid bytes become U+FFFD); a last line without a newline
    /// comes at the end. Replaces the `data` handler.
    pub fn on_line(&self, handler: impl FnMut(&str) + 'static) -> &ChildReader {
        let splitter = Rc::new(RefCell::new(LineSplitter::default()));
        let handler: Rc<RefCell<LineHandler>> = Rc::new(RefCell::new(handler));
        let (s, h) = (splitter.clone(), handler.clone());
        self.on_data(move |chunk| {
            let lines = s.borrow_mut().push(chunk);
            for line in lines {
                (h.borrow_mut())(&line);
            }
        });
        // The last line without a newline comes before the `end` handler
        // already set, which still runs.
        let previous_end = RefCell::new(self.inner.end.borrow_mut().take());
        self.on_end(move || {
            let last = splitter.borrow_mut().finish();
            if let Some(last) = last {
                (handler.borrow_mut())(&last);
            }
            if let Some(end) = previous_end.borrow_mut().as_mut() {
                end(());
            }
        });
        self
    }

    /// The lines as a [`Stream`](futures_core::Stream) (`for await (const
    /// line of rl)`): each line as [`on_line`](ChildReader::on_line) gives
    /// it; the stream ends after the last. Reading pauses while 64 lines
    /// wait unconsumed, so a slow consumer slows the child down rather than
    /// filling memory. Replaces the `data` handler.
    pub fn lines(&self) -> Lines {
        let queue = ItemQueue::new();
        let (q, me) = (queue.clone(), self.clone());
        self.on_line(move |line| ItemQueue::push(&q, line.to_owned(), &me));
        self.end_queue(&queue);
        Lines(ItemStream {
            queue,
            flow: self.clone(),
        })
    }

    /// The chunks as a [`Stream`](futures_core::Stream) (`for await (const
    /// chunk of child.stdout)`), each as it was read; the stream ends at
    /// the end. Reading pauses while 64 chunks wait unconsumed. Replaces
    /// the `data` handler. The same value is the bytes' `futures-io`
    /// [`AsyncRead`] and [`AsyncBufRead`] (e.g. for
    /// `futures::io::AsyncBufReadExt::lines` or `futures::io::copy`).
    pub fn chunks(&self) -> Chunks {
        let queue = ItemQueue::new();
        let (q, me) = (queue.clone(), self.clone());
        self.on_data(move |chunk| ItemQueue::push(&q, chunk.to_vec(), &me));
        self.end_queue(&queue);
        Chunks {
            items: ItemStream {
                queue,
                flow: self.clone(),
            },
            cursor: ChunkCursor::default(),
        }
    }

    /// Ends the stream of `queue` at `end` (after the `end` handler already
    /// set, which still runs).
    fn end_queue<T: 'static>(&self, queue: &Rc<RefCell<ItemQueue<T>>>) {
        let q = queue.clone();
        let previous_end = RefCell::new(self.inner.end.borrow_mut().take());
        self.on_end(move || {
            if let Some(end) = previous_end.borrow_mut().as_mut() {
                end(());
            }
            ItemQueue::finish(&q, None);
        });
    }

    /// Stops reading (Node's `pause`): data waits in the pipe, and a child
    /// that keeps writing blocks once the pipe is full.
    pub fn pause(&self) {
        self.inner.paused.set(true);
    }

    /// Reads again after [`pause`](ChildReader::pause).
    pub fn resume(&self) {
        if self.inner.paused.replace(false) {
            self.inner.defer_read();
        }
    }

    /// Closes the stream now (Node's `destroy()`): no more `data`, no
    /// `end`; the child's `close` no longer waits for its writer to close
    /// it (a grandchild may hold it open).
    pub fn destroy(&self) {
        self.inner.close();
    }

    /// Lets the loop exit while this pipe is open (the child's own
    /// [`unref`](crate::child_process::ChildProcess::unref) leaves its pipes referenced,
    /// as in Node).
    pub fn unref(&self) {
        if let Some(reg) = &*self.inner.reg.borrow() {
            reg.set_ref(false);
        }
    }

    /// Makes the pipe keep the loop alive again.
    pub fn ref_(&self) {
        if let Some(reg) = &*self.inner.reg.borrow() {
            reg.set_ref(true);
        }
    }
}

/// A lines handler ([`ChildReader::on_line`]).
type LineHandler = dyn FnMut(&str);

/// The stream forms pause the pipe while their consumer lags. A consumer
/// that goes away stops taking items: the rest of the output is read and
/// dropped, so a paused pipe cannot block the child (nor keep the loop
/// alive) for good.
impl Flow for ChildReader {
    fn pause(&self) {
        ChildReader::pause(self);
    }

    fn resume(&self) {
        ChildReader::resume(self);
    }

    fn abandon(&self) {
        self.inner.discard_rest();
    }
}

/// The stream of a [`ChildReader`]'s lines ([`ChildReader::lines`]).
#[must_use = "streams do nothing unless polled"]
pub struct Lines(ItemStream<String, ChildReader>);

/// The stream of a [`ChildReader`]'s chunks ([`ChildReader::chunks`]);
/// also the pipe's bytes as a `futures-io` [`AsyncRead`] and
/// [`AsyncBufRead`] (the chunks are its buffer; no copy until read).
/// Both views share one position: a chunk partly read through `AsyncRead`
/// comes next from the `Stream` as its unread rest.
#[must_use = "streams do nothing unless polled"]
pub struct Chunks {
    items: ItemStream<Vec<u8>, ChildReader>,
    cursor: ChunkCursor,
}

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lines")
    }
}

impl std::fmt::Debug for Chunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Chunks")
    }
}

impl futures_core::Stream for Lines {
    type Item = String;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        self.0.poll_next(cx)
    }
}

impl futures_core::Stream for Chunks {
    type Item = Vec<u8>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
        let this = self.get_mut();
        match this.cursor.take_rest() {
            Some(rest) => Poll::Ready(Some(rest)),
            None => this.items.poll_next(cx),
        }
    }
}

impl AsyncBufRead for Chunks {
    /// The unread rest of the current chunk, or the next chunk (waiting
    /// for it); empty at the end.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let Chunks { items, cursor } = self.get_mut();
        cursor.poll_fill_buf(cx, |cx| items.poll_next(cx), || Ok(()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().cursor.consume(amt);
    }
}

impl AsyncRead for Chunks {
    /// Copies from the current chunk (waiting for one); `Ok(0)` at the
    /// end. A pipe's read error reads as the end, as for `end`.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let Chunks { items, cursor } = self.get_mut();
        cursor.poll_read(cx, |cx| items.poll_next(cx), || Ok(()), buf)
    }
}

/// Cuts bytes into lines; keeps the partial last line.
#[derive(Default)]
pub(in crate::node) struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    pub(in crate::node) fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in chunk {
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.partial);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                out.push(String::from_utf8_lossy(&line).into_owned());
            } else {
                self.partial.push(b);
            }
        }
        out
    }

    pub(in crate::node) fn finish(&mut self) -> Option<String> {
        if self.partial.is_empty() {
            return None;
        }
        let line = std::mem::take(&mut self.partial);
        Some(String::from_utf8_lossy(&line).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::LineSplitter;

    #[test]
    fn lines_are_cut_across_chunks() {
        let _w = crate::test_watchdog::watchdog();
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"a\nb"), ["a"]);
        assert_eq!(s.push(b"c\r\n\nd"), ["bc", ""]);
        assert_eq!(s.finish().as_deref(), Some("d"));
        assert_eq!(s.finish(), None);
    }
}

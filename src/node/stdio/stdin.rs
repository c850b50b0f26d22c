//! `process.stdin`: [`Stdin`], fed by one reader thread for the process.
//!
//! The thread does a blocking `read(0)` (no `O_NONBLOCK` on the open file
//! description the parent shell shares; works alike for files, pipes and
//! TTYs) and puts each chunk in the process-wide [`FEED`] queue, then posts
//! a pull to the loop that listens. The loop takes the chunks in its poll
//! phase. A chunk read while nobody listens (paused, or the loop gone)
//! waits in the queue for the next listener, so nothing read is lost.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead};

use crate::node::child_process::reader::LineSplitter;
use crate::node::chunk_cursor::ChunkCursor;
use crate::node::item_stream::{Flow, ItemQueue, ItemStream};
use crate::node::net::handler::{Handler, Lent, call};
use crate::rt::callback::Callback;
use crate::rt::context::{on_loop_drop, try_with_core, with_core};
use crate::rt::remote::LoopHandle;

const READ_BUF: usize = 64 * 1024;

/// What the reader thread read.
enum Chunk {
    Data(Vec<u8>),
    End,
    /// A read error: its kind and errno (sticky, as the end: a later
    /// listener gets it too).
    Error(io::ErrorKind, Option<i32>),
}

/// The state shared with the reader thread.
struct Feed {
    /// The loop chunks go to, and its handle (referenced while that loop
    /// wants data and has not unref'd stdin).
    target: Option<(u32, LoopHandle)>,
    /// Someone is flowing: the thread may read.
    want: bool,
    started: bool,
    /// Read and not yet taken by a loop.
    chunks: VecDeque<Chunk>,
}

static FEED: Mutex<Feed> = Mutex::new(Feed {
    target: None,
    want: false,
    started: false,
    chunks: VecDeque::new(),
});
static WANTED: Condvar = Condvar::new();

fn feed() -> MutexGuard<'static, Feed> {
    FEED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The reader thread: reads while wanted, until the end or an error.
fn reader_thread() {
    let mut buf = vec![0u8; READ_BUF];
    loop {
        {
            let mut f = feed();
            while !f.want {
                f = WANTED.wait(f).unwrap_or_else(|e| e.into_inner());
            }
        }
        let chunk = match io::stdin().lock().read(&mut buf) {
            Ok(0) => Chunk::End,
            Ok(n) => Chunk::Data(buf[..n].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // A closed fd 0: Node opens /dev/null there at startup, so
            // stdin simply ends.
            Err(e) if e.raw_os_error() == Some(libc::EBADF) => Chunk::End,
            Err(e) => Chunk::Error(e.kind(), e.raw_os_error()),
        };
        let last = !matches!(chunk, Chunk::Data(_));
        let mut f = feed();
        f.chunks.push_back(chunk);
        if let Some((id, h)) = &f.target {
            let id = *id;
            // A loop gone meanwhile: the chunk waits for the next listener.
            let _ = h.post(move || pull(id));
        }
        if last {
            return; // the end is sticky: the queue keeps it
        }
    }
}

/// The `data` handler: its argument borrows the chunk.
type DataHandler = Box<dyn FnMut(&[u8])>;
/// The lines helper's handler, shared by its `data` and end parts.
type LineHandler = Rc<RefCell<dyn FnMut(&str)>>;

/// One loop's stdin.
struct StdinInner {
    loop_id: u32,
    data: RefCell<Option<DataHandler>>,
    end: Handler<()>,
    /// Runs just before `end`: the lines helper's last line.
    before_end: RefCell<Option<Box<dyn FnOnce()>>>,
    error: Handler<io::Error>,
    paused: Cell<bool>,
    referenced: Cell<bool>,
    ended: Cell<bool>,
}

thread_local! {
    static STDINS: RefCell<Vec<Rc<StdinInner>>> = const { RefCell::new(Vec::new()) };
}

fn find(loop_id: u32) -> Option<Rc<StdinInner>> {
    STDINS
        .try_with(|s| s.borrow().iter().find(|i| i.loop_id == loop_id).cloned())
        .ok()
        .flatten()
}

fn drop_stdin(id: u32) -> usize {
    let mut f = feed();
    if f.target.as_ref().is_some_and(|(t, _)| *t == id) {
        f.target = None;
        f.want = false;
    }
    drop(f);
    let gone = STDINS
        .try_with(|s| {
            let mut s = s.borrow_mut();
            s.iter()
                .position(|i| i.loop_id == id)
                .map(|i| s.swap_remove(i))
        })
        .ok()
        .flatten();
    usize::from(gone.is_some())
}

/// Runs on loop `id` (posted by the reader thread, or deferred by
/// `resume`): hands every queued chunk to its listener while it flows.
fn pull(id: u32) {
    let Some(me) = find(id) else { return };
    loop {
        if me.ended.get() || !me.flowing() {
            return;
        }
        let chunk = {
            let mut f = feed();
            match f.chunks.front() {
                None => return,
                // The end stays queued for any later listener.
                Some(Chunk::End) => Chunk::End,
                Some(Chunk::Error(kind, errno)) => Chunk::Error(*kind, *errno),
                Some(_) => f.chunks.pop_front().expect("a front"),
            }
        };
        match chunk {
            Chunk::Data(bytes) => {
                if let Some(mut lent) = Lent::take(&me.data) {
                    lent.handler()(&bytes);
                }
                try_with_core(|core| core.drain_now());
            }
            Chunk::End => me.finish(None),
            Chunk::Error(kind, errno) => {
                // Node's text: `read EIO`.
                let code = errno.map_or("EUNKNOWN", |n| crate::node::fs::errno_name(n).0);
                me.finish(Some(io::Error::new(kind, format!("read {code}"))));
            }
        }
    }
}

impl StdinInner {
    fn flowing(&self) -> bool {
        !self.paused.get() && self.data.borrow().is_some()
    }

    /// Tells the reader thread whether to read, and whether this loop is
    /// kept alive by it.
    fn update(&self) {
        let flowing = self.flowing() && !self.ended.get();
        let mut f = feed();
        if flowing {
            let mine = f.target.as_ref().is_some_and(|(t, _)| *t == self.loop_id);
            if !mine {
                f.target = Some((self.loop_id, crate::rt::current::handle()));
            }
            if !f.started {
                f.started = true;
                std::thread::Builder::new()
                    .name("evloop-stdin".into())
                    .spawn(reader_thread)
                    .expect("spawning the stdin reader thread");
            }
            f.want = true;
            WANTED.notify_all();
        } else if f.target.as_ref().is_some_and(|(t, _)| *t == self.loop_id) {
            f.want = false;
        }
        let referenced = flowing && self.referenced.get();
        if let Some((t, h)) = f.target.as_mut()
            && *t == self.loop_id
        {
            if referenced {
                h.ref_();
            } else {
                h.unref();
            }
        }
        if self.ended.get() && f.target.as_ref().is_some_and(|(t, _)| *t == self.loop_id) {
            f.target = None;
        }
        let queued = !f.chunks.is_empty();
        drop(f);
        if flowing && queued {
            // Chunks read earlier: take them in the next poll phase, as if
            // the thread had just posted them.
            let id = self.loop_id;
            let _ = crate::rt::current::handle().post(move || pull(id));
        }
    }

    /// The end (or a read error): on a next tick, as Node's
    /// `endReadableNT`; the loop is released now.
    fn finish(self: &Rc<Self>, error: Option<io::Error>) {
        if self.ended.replace(true) {
            return;
        }
        self.update();
        let me = self.clone();
        with_core("Stdin::end", |core| {
            core.push_tick(Callback::new(
                move || match error {
                    None => {
                        let before = me.before_end.borrow_mut().take();
                        if let Some(before) = before {
                            before();
                        }
                        call(&me.end, ());
                    }
                    Some(e) => call(&me.error, e),
                },
                std::panic::Location::caller(),
            ));
        });
    }
}

/// The process's standard input (Node's `process.stdin`), for the current
/// loop: see [`stdin`].
///
/// # Events
/// `data` ([`on_data`](Stdin::on_data)): each chunk as read, in the poll
/// phase, each followed by the next-tick/microtask drain; reading starts
/// when a handler is set (Node's flowing mode). `end`: the input ended (a
/// next tick after the last chunk; also when fd 0 is closed). `error`: a
/// read failed (`read EIO` from a TTY that went away, say), on a next tick;
/// no `end` follows.
///
/// # Keeping the loop alive
/// While a `data` handler is set and stdin is not paused, ended or
/// [`unref`](Stdin::unref)'d, the loop does not exit (as Node's stdin).
///
/// # One loop at a time
/// Standard input is one per process: the loop that last set a `data`
/// handler (or resumed) receives the chunks; the others get none.
#[derive(Clone)]
pub struct Stdin {
    inner: Rc<StdinInner>,
}

impl std::fmt::Debug for Stdin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stdin")
            .field("ended", &self.inner.ended.get())
            .finish()
    }
}

/// `process.stdin` for the current loop; every call on one loop returns
/// the same stream. See [`Stdin`] and the module doc for how it is read.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn stdin() -> Stdin {
    let loop_id = with_core("process::stdin", |core| core.id());
    on_loop_drop("stdin", drop_stdin);
    let inner = find(loop_id).unwrap_or_else(|| {
        let inner = Rc::new(StdinInner {
            loop_id,
            data: RefCell::new(None),
            end: RefCell::new(None),
            before_end: RefCell::new(None),
            error: RefCell::new(None),
            paused: Cell::new(false),
            referenced: Cell::new(true),
            ended: Cell::new(false),
        });
        STDINS.with(|s| s.borrow_mut().push(inner.clone()));
        inner
    });
    Stdin { inner }
}

impl Stdin {
    /// Sets the `data` handler (replacing any, and the lines helper):
    /// each chunk as read. Reading starts (or goes on) at once.
    pub fn on_data(&self, handler: impl FnMut(&[u8]) + 'static) -> &Stdin {
        drop(self.inner.before_end.take());
        self.set_data(Box::new(handler))
    }

    fn set_data(&self, handler: DataHandler) -> &Stdin {
        *self.inner.data.borrow_mut() = Some(handler);
        self.inner.update();
        self
    }

    /// Sets the `end` handler: the input ended; no more data.
    pub fn on_end(&self, mut handler: impl FnMut() + 'static) -> &Stdin {
        *self.inner.end.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// Sets the `error` handler: a read failed; the stream is done.
    pub fn on_error(&self, handler: impl FnMut(io::Error) + 'static) -> &Stdin {
        *self.inner.error.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// The lines helper (Node's `readline` on stdin): `handler` gets each
    /// line without its `\n` (a `\r\n` loses the `\r` too), decoded as
    /// UTF-8 (invalid bytes become U+FFFD), whatever the chunk boundaries;
    /// a last line without a newline comes at the end, just before the
    /// `end` handler (set before or after). Replaces the `data` handler.
    pub fn on_line(&self, handler: impl FnMut(&str) + 'static) -> &Stdin {
        let splitter = Rc::new(RefCell::new(LineSplitter::default()));
        let handler: LineHandler = Rc::new(RefCell::new(handler));
        let (s, h) = (splitter.clone(), handler.clone());
        self.set_data(Box::new(move |chunk| {
            let lines = s.borrow_mut().push(chunk);
            for line in lines {
                (h.borrow_mut())(&line);
            }
        }));
        *self.inner.before_end.borrow_mut() = Some(Box::new(move || {
            let last = splitter.borrow_mut().finish();
            if let Some(last) = last {
                (handler.borrow_mut())(&last);
            }
        }));
        self
    }

    /// The lines as a [`Stream`](futures_core::Stream) (`for await (const
    /// line of readline.createInterface({ input: process.stdin }))`): each
    /// line as [`on_line`](Stdin::on_line) gives it; the stream ends after
    /// the last (or at a read error). Delivery pauses while 64 lines wait
    /// unconsumed. Replaces the `data` handler and the `end` handler.
    ///
    /// ```no_run
    /// use evloop::StreamNext;
    /// evloop::run_async(async {
    ///     let mut lines = evloop::process::stdin().lines();
    ///     while let Some(line) = lines.next().await {
    ///         println!("got {line}");
    ///     }
    /// });
    /// ```
    pub fn lines(&self) -> StdinLines {
        let queue = ItemQueue::new();
        let (q, me) = (queue.clone(), self.clone());
        self.on_line(move |line| ItemQueue::push(&q, line.to_owned(), &me));
        self.end_queue(&queue);
        StdinLines(ItemStream {
            queue,
            flow: self.clone(),
        })
    }

    /// The chunks as a [`Stream`](futures_core::Stream) (`for await (const
    /// chunk of process.stdin)`), each as read; the stream ends at the end
    /// (or at a read error). The same value is stdin's bytes as a
    /// `futures-io` [`AsyncRead`] and [`AsyncBufRead`] (for
    /// `futures::io::copy`, `AsyncBufReadExt::lines`, codecs), where a read
    /// error is an `Err` (`read EIO`, say). Delivery pauses while 64 chunks
    /// wait unconsumed. Replaces the `data` handler and the `end` and
    /// `error` handlers.
    pub fn chunks(&self) -> StdinChunks {
        let queue = ItemQueue::new();
        let (q, me) = (queue.clone(), self.clone());
        self.on_data(move |chunk| ItemQueue::push(&q, chunk.to_vec(), &me));
        self.end_queue(&queue);
        StdinChunks {
            items: ItemStream {
                queue,
                flow: self.clone(),
            },
            cursor: ChunkCursor::default(),
        }
    }

    /// Ends `queue` at the end, or at a read error (which it keeps).
    fn end_queue<T: 'static>(&self, queue: &Rc<RefCell<ItemQueue<T>>>) {
        let q = queue.clone();
        self.on_end(move || ItemQueue::finish(&q, None));
        let q = queue.clone();
        self.on_error(move |e| ItemQueue::finish(&q, Some(&e)));
    }

    /// Stops delivering chunks (Node's `pause`) and lets the loop exit.
    /// A read already under way completes; its chunk waits for `resume`.
    pub fn pause(&self) {
        if !self.inner.paused.replace(true) {
            self.inner.update();
        }
    }

    /// Delivers chunks again after [`pause`](Stdin::pause).
    pub fn resume(&self) {
        if self.inner.paused.replace(false) {
            self.inner.update();
        }
    }

    /// Lets the loop exit while stdin is read (`process.stdin.unref()`).
    pub fn unref(&self) {
        self.inner.referenced.set(false);
        self.inner.update();
    }

    /// Makes a flowing stdin keep the loop alive again (the default).
    pub fn ref_(&self) {
        self.inner.referenced.set(true);
        self.inner.update();
    }

    /// Whether stdin is a terminal (`process.stdin.isTTY`).
    pub fn is_tty(&self) -> bool {
        use std::io::IsTerminal;
        io::stdin().is_terminal()
    }
}

/// The stream forms pause stdin while their consumer lags, and pause it
/// for good when dropped (what is read waits for a next listener).
impl Flow for Stdin {
    fn pause(&self) {
        Stdin::pause(self);
    }

    fn resume(&self) {
        Stdin::resume(self);
    }

    fn abandon(&self) {
        Stdin::pause(self);
    }
}

/// The stream of stdin's lines ([`Stdin::lines`]). Dropping it stops
/// delivery (stdin is paused; what is read waits for a next listener).
#[must_use = "streams do nothing unless polled"]
pub struct StdinLines(ItemStream<String, Stdin>);

impl std::fmt::Debug for StdinLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StdinLines")
    }
}

impl futures_core::Stream for StdinLines {
    type Item = String;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        self.0.poll_next(cx)
    }
}

/// The stream of stdin's chunks ([`Stdin::chunks`]), also stdin's bytes as
/// a `futures-io` [`AsyncRead`] and [`AsyncBufRead`]; both views share one
/// position (a chunk partly read comes next from the `Stream` as its
/// unread rest). Dropping it stops delivery (stdin is paused; what is read
/// waits for a next listener).
#[must_use = "streams do nothing unless polled"]
pub struct StdinChunks {
    items: ItemStream<Vec<u8>, Stdin>,
    cursor: ChunkCursor,
}

impl std::fmt::Debug for StdinChunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StdinChunks")
    }
}

impl futures_core::Stream for StdinChunks {
    type Item = Vec<u8>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
        let this = self.get_mut();
        match this.cursor.take_rest() {
            Some(rest) => Poll::Ready(Some(rest)),
            None => this.items.poll_next(cx),
        }
    }
}

impl AsyncBufRead for StdinChunks {
    /// The unread rest of the current chunk, or the next chunk (waiting
    /// for it); empty at the end; the read error that ended the input.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let StdinChunks { items, cursor } = self.get_mut();
        cursor.poll_fill_buf(cx, |cx| items.poll_next(cx), || items.end_result())
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().cursor.consume(amt);
    }
}

impl AsyncRead for StdinChunks {
    /// Copies from the current chunk (waiting for one); `Ok(0)` at the
    /// end; the read error that ended the input.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let StdinChunks { items, cursor } = self.get_mut();
        cursor.poll_read(cx, |cx| items.poll_next(cx), || items.end_result(), buf)
    }
}

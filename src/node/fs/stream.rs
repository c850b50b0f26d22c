//! File streams with backpressure, as futures: [`ReadStream`] pulls (the
//! next pool read is issued only when the consumer asks for a chunk), and
//! [`WriteStream`] makes a write wait while its high-water mark of bytes is
//! queued. Node's event forms (`'data'`/`'end'`, `write()` → `false` then
//! `'drain'`) are not provided: awaiting gives the same bounds.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::error::{copy_error, node_error, with_code};
use super::open::OpenOptions;
use crate::futures::stream::Stream;
use crate::rt::executor::Waiter;
use crate::rt::pool::queue_work;

/// Node's `fs.createReadStream` chunk (its `highWaterMark`): 64 KiB.
pub const READ_STREAM_CHUNK: usize = 64 * 1024;

/// Node's `fs.createWriteStream` `highWaterMark`: 16 KiB.
pub const WRITE_STREAM_HIGH_WATER: usize = 16 * 1024;

/// What [`create_read_stream`] reads: chunk size and byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadStreamOptions {
    chunk_size: usize,
    start: u64,
    end: Option<u64>,
}

impl Default for ReadStreamOptions {
    fn default() -> ReadStreamOptions {
        ReadStreamOptions::new()
    }
}

impl ReadStreamOptions {
    /// The whole file in [`READ_STREAM_CHUNK`] chunks.
    pub fn new() -> ReadStreamOptions {
        ReadStreamOptions {
            chunk_size: READ_STREAM_CHUNK,
            start: 0,
            end: None,
        }
    }

    /// The most bytes one read asks for, and so the largest chunk (Node's
    /// `highWaterMark`). 0 is an `ERR_OUT_OF_RANGE` error from the stream.
    pub fn chunk_size(mut self, bytes: usize) -> ReadStreamOptions {
        self.chunk_size = bytes;
        self
    }

    /// The offset of the first byte read (Node's `start`).
    pub fn start(mut self, offset: u64) -> ReadStreamOptions {
        self.start = offset;
        self
    }

    /// The offset of the last byte read, inclusive (Node's `end`). Below
    /// `start` it is an `ERR_OUT_OF_RANGE` error from the stream.
    pub fn end(mut self, offset: u64) -> ReadStreamOptions {
        self.end = Some(offset);
        self
    }
}

/// A file read as a [`Stream`] of chunks (`fs.createReadStream`), from
/// [`create_read_stream`].
///
/// Pull-based: nothing is read until the stream is polled, and each poll
/// that finds no chunk ready issues one pool read of up to `chunk_size`
/// bytes. While the consumer holds a chunk no read runs, so a slow consumer
/// holds at most one chunk in memory and one read in flight, whatever the
/// file's size. The file is opened by the first read and closed at the end,
/// on an error, or when the stream is dropped.
///
/// Items are `Ok(chunk)` (never empty) until the end of the file or range,
/// then `None`; an error is one `Err` item, after which the stream ends.
/// A task waiting resumes in the microtask checkpoint after the poll phase
/// that completed the read.
///
/// ```
/// use evloop::fs::{self, ReadStreamOptions};
/// let path = std::env::temp_dir().join(format!("evloop-doc-rs-{}", std::process::id()));
/// std::fs::write(&path, vec![1u8; 200_000]).unwrap();
/// let p = path.clone();
/// let sizes = evloop::run_async(async move {
///     let mut chunks = fs::create_read_stream(&p, ReadStreamOptions::new());
///     let mut sizes = Vec::new();
///     while let Some(chunk) = chunks.next().await {
///         sizes.push(chunk.unwrap().len());
///     }
///     sizes
/// });
/// assert_eq!(sizes, [65536, 65536, 65536, 3392]);
/// std::fs::remove_file(&path).unwrap();
/// ```
#[must_use = "a stream reads nothing unless polled"]
pub struct ReadStream {
    path: Arc<PathBuf>,
    options: ReadStreamOptions,
    state: Rc<RefCell<ReadState>>,
}

#[derive(Default)]
struct ReadState {
    /// The open file between reads (a read in flight holds it).
    file: Option<File>,
    /// Bytes left in the range; `None`: to the end of the file.
    remaining: Option<u64>,
    in_flight: bool,
    ready: Option<io::Result<(File, Vec<u8>)>>,
    waiter: Option<Waiter>,
    started: bool,
    done: bool,
    bytes_read: u64,
}

impl std::fmt::Debug for ReadStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("ReadStream")
            .field("path", &self.path)
            .field("bytes_read", &s.bytes_read)
            .field("done", &s.done)
            .finish()
    }
}

/// A stream of `path`'s chunks (`fs.createReadStream(path, options)`); see
/// [`ReadStream`]. Nothing happens until it is polled.
///
/// # Errors
/// As items: the open's error (`ENOENT: no such file or directory, open
/// 'p'`), a read's, or `ERR_OUT_OF_RANGE` (`InvalidInput`) for a zero
/// chunk size or an `end` before `start`.
pub fn create_read_stream(path: impl AsRef<Path>, options: ReadStreamOptions) -> ReadStream {
    ReadStream {
        path: Arc::new(path.as_ref().to_path_buf()),
        options,
        state: Rc::default(),
    }
}

impl ReadStream {
    /// The next chunk (see [`ReadStream`]); `None` at the end.
    ///
    /// # Panics
    /// If no event loop is running on this thread when a read must be
    /// issued.
    pub async fn next(&mut self) -> Option<io::Result<Vec<u8>>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Bytes handed out so far (Node's `bytesRead`).
    pub fn bytes_read(&self) -> u64 {
        self.state.borrow().bytes_read
    }

    fn out_of_range(&self, what: &str) -> io::Error {
        with_code(
            io::ErrorKind::InvalidInput,
            format!(
                "ERR_OUT_OF_RANGE: {what}, createReadStream '{}'",
                self.path.display()
            ),
            "ERR_OUT_OF_RANGE",
        )
    }

    fn poll_chunk(&self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Vec<u8>>>> {
        let mut s = self.state.borrow_mut();
        if let Some(r) = s.ready.take() {
            return Poll::Ready(match r {
                Err(e) => {
                    s.done = true;
                    Some(Err(e))
                }
                // An empty read is the end of the file: the file closes here.
                Ok((_, buf)) if buf.is_empty() => {
                    s.done = true;
                    None
                }
                Ok((file, buf)) => {
                    s.file = Some(file);
                    s.bytes_read += buf.len() as u64;
                    if let Some(left) = &mut s.remaining {
                        *left -= buf.len() as u64;
                    }
                    Some(Ok(buf))
                }
            });
        }
        if s.done {
            return Poll::Ready(None);
        }
        if !s.started {
            s.started = true;
            let ReadStreamOptions {
                chunk_size,
                start,
                end,
            } = self.options;
            let bad = match end {
                _ if chunk_size == 0 => Some(self.out_of_range(
                    "The value of \"chunk_size\" is out of range. It must be >= 1. Received 0",
                )),
                Some(end) if end < start => Some(self.out_of_range(&format!(
                    "The value of \"start\" is out of range. It must be <= \"end\" (here: {end}). Received {start}"
                ))),
                _ => None,
            };
            if let Some(e) = bad {
                s.done = true;
                return Poll::Ready(Some(Err(e)));
            }
            // `end` is inclusive; past u64 the file's end comes first.
            s.remaining = end.and_then(|end| (end - start).checked_add(1));
        }
        if !s.in_flight {
            let want = match s.remaining {
                Some(0) => {
                    s.done = true;
                    s.file = None;
                    return Poll::Ready(None);
                }
                Some(left) => left.min(self.options.chunk_size as u64) as usize,
                None => self.options.chunk_size,
            };
            s.in_flight = true;
            let (file, path, start) = (s.file.take(), self.path.clone(), self.options.start);
            let state = self.state.clone();
            let _work = queue_work(
                move || read_chunk(file, &path, start, want),
                move |r| {
                    let waiter = {
                        let mut s = state.borrow_mut();
                        s.in_flight = false;
                        s.ready = Some(r.map_err(io::Error::from).and_then(|r| r));
                        s.waiter.take()
                    };
                    if let Some(w) = waiter {
                        w.wake();
                    }
                },
            );
        }
        Waiter::register(&mut s.waiter, cx);
        Poll::Pending
    }
}

/// One read of up to `want` bytes, on a pool thread; the first also opens
/// the file and moves to `start`. One `read` call, as Node's: a short read
/// is a short chunk, and 0 bytes the end.
fn read_chunk(
    file: Option<File>,
    path: &Path,
    start: u64,
    want: usize,
) -> io::Result<(File, Vec<u8>)> {
    let read_err = |e| node_error(e, "read", path, None);
    let mut file = match file {
        Some(f) => f,
        None => {
            let mut f = File::open(path).map_err(|e| node_error(e, "open", path, None))?;
            if start > 0 {
                f.seek(SeekFrom::Start(start)).map_err(read_err)?;
            }
            f
        }
    };
    let mut buf = vec![0; want];
    let n = loop {
        match file.read(&mut buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            r => break r.map_err(read_err)?,
        }
    };
    buf.truncate(n);
    Ok((file, buf))
}

impl Stream for ReadStream {
    type Item = io::Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }
}

/// How [`create_write_stream`] opens its file and how much it queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteStreamOptions {
    open: OpenOptions,
    high_water_mark: usize,
}

impl Default for WriteStreamOptions {
    fn default() -> WriteStreamOptions {
        WriteStreamOptions::new()
    }
}

impl WriteStreamOptions {
    /// Node's defaults: flags `"w"` (create or truncate), a
    /// [`WRITE_STREAM_HIGH_WATER`] mark.
    pub fn new() -> WriteStreamOptions {
        let mut open = OpenOptions::new();
        open.write(true).create(true).truncate(true);
        WriteStreamOptions {
            open,
            high_water_mark: WRITE_STREAM_HIGH_WATER,
        }
    }

    /// How the file is opened (Node's `flags` and `mode`); e.g. append with
    /// `OpenOptions::from_flags("a")`.
    pub fn open(mut self, options: OpenOptions) -> WriteStreamOptions {
        self.open = options;
        self
    }

    /// Bytes queued (accepted, not yet written) at which a write waits
    /// (Node's `highWaterMark`). 0 accepts one chunk at a time.
    pub fn high_water_mark(mut self, bytes: usize) -> WriteStreamOptions {
        self.high_water_mark = bytes;
        self
    }
}

/// A file written chunk by chunk with backpressure
/// (`fs.createWriteStream`), from [`create_write_stream`].
///
/// [`write`](WriteStream::write) resolves when the chunk is accepted:
/// at once while fewer than `high_water_mark` bytes wait to be written,
/// else once the pool has written enough (Node's `write()` returning
/// `false`, then `'drain'`). So at most `high_water_mark` bytes plus one
/// chunk are queued. One pool job at a time writes every chunk queued when
/// it starts, in order.
///
/// [`finish`](WriteStream::finish) waits for every write and closes the
/// file (Node's `end()` then `'finish'`). Dropped unfinished, the stream
/// still writes what it accepted, then closes; errors are then lost.
///
/// ```
/// use evloop::fs::{self, WriteStreamOptions};
/// let path = std::env::temp_dir().join(format!("evloop-doc-ws-{}", std::process::id()));
/// let p = path.clone();
/// let written = evloop::run_async(async move {
///     let mut out = fs::create_write_stream(&p, WriteStreamOptions::new());
///     for i in 0..1000 {
///         out.write(format!("line {i}\n")).await?;
///         assert!(out.writable_length() <= 16 * 1024 + 10);
///     }
///     out.finish().await
/// });
/// assert_eq!(written.unwrap(), std::fs::metadata(&path).unwrap().len());
/// std::fs::remove_file(&path).unwrap();
/// ```
#[must_use = "dropping a WriteStream loses its errors: call finish"]
pub struct WriteStream {
    state: Rc<RefCell<WriteState>>,
}

struct WriteState {
    path: Arc<PathBuf>,
    high_water_mark: usize,
    /// The open file while no job holds it.
    file: Option<File>,
    /// A job (the open, or a batch of writes) is in flight.
    busy: bool,
    /// Chunks accepted and not yet handed to a job.
    queue: Vec<Vec<u8>>,
    /// Bytes accepted and not yet written (queued and in flight).
    pending: usize,
    written: u64,
    error: Option<io::Error>,
    waiter: Option<Waiter>,
}

impl std::fmt::Debug for WriteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("WriteStream")
            .field("path", &s.path)
            .field("writable_length", &s.pending)
            .field("bytes_written", &s.written)
            .finish()
    }
}

/// A stream writing to `path` (`fs.createWriteStream(path, options)`); see
/// [`WriteStream`]. The open is queued on the pool at once; writes are
/// accepted meanwhile.
///
/// # Errors
/// The open's error (`EACCES: permission denied, open 'p'`) or a write's
/// comes back from the next [`write`](WriteStream::write) or
/// [`finish`](WriteStream::finish), and from every one after.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn create_write_stream(path: impl AsRef<Path>, options: WriteStreamOptions) -> WriteStream {
    let path = Arc::new(path.as_ref().to_path_buf());
    let state = Rc::new(RefCell::new(WriteState {
        path: path.clone(),
        high_water_mark: options.high_water_mark,
        file: None,
        busy: true,
        queue: Vec::new(),
        pending: 0,
        written: 0,
        error: None,
        waiter: None,
    }));
    let st = state.clone();
    let _work = queue_work(
        move || {
            options
                .open
                .to_std()
                .open(&*path)
                .map_err(|e| node_error(e, "open", &path, None))
        },
        move |r| {
            let mut s = st.borrow_mut();
            s.busy = false;
            match r.map_err(io::Error::from).and_then(|r| r) {
                Ok(file) => s.file = Some(file),
                Err(e) => s.fail(e),
            }
            WriteState::next_job(&st, s);
        },
    );
    WriteStream { state }
}

impl WriteState {
    fn fail(&mut self, e: io::Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.queue.clear();
        self.pending = 0;
        self.file = None;
    }

    /// After a job: starts the next batch if chunks wait, and wakes the
    /// writer or finisher (they re-check their condition).
    fn next_job(state: &Rc<RefCell<WriteState>>, mut s: std::cell::RefMut<'_, WriteState>) {
        if !s.busy
            && !s.queue.is_empty()
            && let Some(file) = s.file.take()
        {
            s.busy = true;
            let batch = std::mem::take(&mut s.queue);
            let (path, st) = (s.path.clone(), state.clone());
            let _work = queue_work(
                move || write_batch(file, &batch, &path),
                move |r| {
                    let mut s = st.borrow_mut();
                    s.busy = false;
                    match r {
                        Ok((file, n, result)) => {
                            s.written += n as u64;
                            s.pending -= n;
                            s.file = Some(file);
                            if let Err(e) = result {
                                s.fail(e);
                            }
                        }
                        Err(e) => s.fail(e.into()),
                    }
                    WriteState::next_job(&st, s);
                },
            );
        }
        if let Some(w) = s.waiter.take() {
            drop(s);
            w.wake();
        }
    }
}

/// Writes every chunk in order on a pool thread; gives the file back with
/// the bytes written before any error.
fn write_batch(mut file: File, batch: &[Vec<u8>], path: &Path) -> (File, usize, io::Result<()>) {
    let mut n = 0;
    for chunk in batch {
        if let Err(e) = file.write_all(chunk) {
            return (file, n, Err(node_error(e, "write", path, None)));
        }
        n += chunk.len();
    }
    (file, n, Ok(()))
}

impl WriteStream {
    /// Queues `data`, waiting first while `high_water_mark` bytes or more
    /// are queued (see [`WriteStream`]). Resolves `Ok` once accepted, not
    /// once written: [`finish`](WriteStream::finish) reports the writes.
    ///
    /// # Errors
    /// The stream's first error (the open's or an earlier write's), from
    /// then on for every call; nothing more is written after an error.
    pub async fn write(&mut self, data: impl Into<Vec<u8>>) -> io::Result<()> {
        let mut data = Some(data.into());
        std::future::poll_fn(|cx| {
            let mut s = self.state.borrow_mut();
            if let Some(e) = &s.error {
                return Poll::Ready(Err(copy_error(e)));
            }
            if s.pending > 0 && s.pending >= s.high_water_mark {
                Waiter::register(&mut s.waiter, cx);
                return Poll::Pending;
            }
            let chunk = data.take().expect("polled after completion");
            if !chunk.is_empty() {
                s.pending += chunk.len();
                s.queue.push(chunk);
                s.waiter = None;
                WriteState::next_job(&self.state, s);
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// Waits until every accepted chunk is written, then closes the file
    /// (Node's `end()` and `'finish'`); gives the bytes written.
    ///
    /// # Errors
    /// The stream's first error, as for [`write`](WriteStream::write).
    pub async fn finish(self) -> io::Result<u64> {
        std::future::poll_fn(|cx| {
            let mut s = self.state.borrow_mut();
            if let Some(e) = &s.error {
                return Poll::Ready(Err(copy_error(e)));
            }
            if s.busy || !s.queue.is_empty() {
                Waiter::register(&mut s.waiter, cx);
                return Poll::Pending;
            }
            s.file = None;
            Poll::Ready(Ok(s.written))
        })
        .await
    }

    /// Bytes accepted and not yet written (Node's `writableLength`).
    pub fn writable_length(&self) -> usize {
        self.state.borrow().pending
    }

    /// Bytes written to the file so far (Node's `bytesWritten`).
    pub fn bytes_written(&self) -> u64 {
        self.state.borrow().written
    }
}

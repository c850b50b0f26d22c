//! The Chrome trace file (`Builder::trace_file`, `EVLOOP_TRACE_FILE`),
//! streamed to disk with bounded memory.
//!
//! The file is the Trace Event Format's *JSON Array Format*: `[`, then the
//! events, comma-separated, then `]`. That format's description allows the
//! closing `]` to be missing (Chrome's trace viewer and Perfetto accept such
//! a file), which is what lets a trace be streamed: a process killed mid-run
//! leaves a file that opens as is, and that strict JSON parsers read once
//! `]` is appended. A run that ends normally (its last tracing loop dropped,
//! or the process exiting) writes the `]`.
//!
//! Each loop appends its events (and its pool threads' jobs) to its own
//! [`Buffer`], which is handed to the file as one write once it holds
//! [`FLUSH_AT`] bytes, when the loop is about to wait for I/O or timers, when
//! the loop is dropped, on `EventLoop::write_trace`, and at the process's
//! exit (the `atexit` hook the replay also uses, `capture::at_exit`). So a
//! loop holds at most [`FLUSH_AT`] bytes plus one event, whatever the length
//! of the run.
//!
//! Every loop of the process tracing to one path shares the file (one track
//! each); a loop built after the others were dropped reopens it, writing
//! over the `]`.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// A loop's buffer is written to the file once it holds this many bytes.
pub(crate) const FLUSH_AT: usize = 32 * 1024;

/// One trace file of the process.
struct TraceFile {
    path: PathBuf,
    state: Mutex<FileState>,
}

struct FileState {
    /// The open file, or why it could not be created.
    out: Result<File, (io::ErrorKind, String)>,
    /// Where the file ends (the next write goes there).
    len: u64,
    /// Whether an event was written (the next one needs a comma).
    any: bool,
    /// Where the closing `\n]\n` starts, when every loop tracing here was
    /// dropped: a new loop writes over it.
    closed_at: Option<u64>,
    /// The process is exiting and the file was ended for good: later
    /// batches are dropped.
    ended: bool,
    /// The buffers of the loops tracing here now, for the exit hook.
    live: Vec<Weak<Buffer>>,
    /// The largest batch written: what a buffer held at most.
    largest_batch: usize,
}

/// The trace files of the process, by path.
static FILES: Mutex<Vec<Arc<TraceFile>>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The events of one loop and its pool threads not yet written: each
/// starts with a comma (the file's first loses it).
pub(crate) struct Buffer {
    file: Arc<TraceFile>,
    text: Mutex<String>,
}

impl Buffer {
    /// Opens (or joins) the trace file at `path` for a new loop.
    pub(crate) fn open(path: PathBuf) -> Arc<Buffer> {
        let file = {
            let mut files = lock(&FILES);
            match files.iter().find(|f| f.path == path) {
                Some(f) => f.clone(),
                None => {
                    let f = Arc::new(TraceFile::create(path));
                    files.push(f.clone());
                    f
                }
            }
        };
        // Registered after the lock on FILES is released: the hook takes it.
        static HOOKED: std::sync::Once = std::sync::Once::new();
        HOOKED.call_once(|| {
            if !crate::rt::trace::capture::at_exit(finish_all) {
                log::warn!(target: "evloop", "trace file: cannot register the exit hook; a file is ended only when its loops are dropped");
            }
        });
        let buffer = Arc::new(Buffer {
            file: file.clone(),
            text: Mutex::new(String::with_capacity(FLUSH_AT + 1024)),
        });
        let mut state = lock(&file.state);
        if let Some(at) = state.closed_at.take() {
            // Write over the `]` of the loops before.
            if let Ok(out) = &state.out
                && let Err(e) = out.set_len(at)
            {
                log::error!(target: "evloop", "cannot reopen the trace file {}: {e}", file.path.display());
            }
            state.len = at;
        }
        state.live.push(Arc::downgrade(&buffer));
        drop(state);
        buffer
    }

    /// Appends one event (`write` gets the buffer; it must start the event
    /// with a comma), writing the buffer to the file if it is full.
    pub(crate) fn push(&self, write: impl FnOnce(&mut String)) {
        let mut text = lock(&self.text);
        write(&mut text);
        if text.len() >= FLUSH_AT {
            let _ = self.file.write_batch(&mut text);
        }
    }

    /// Writes what the buffer holds to the file.
    pub(crate) fn flush(&self) -> io::Result<()> {
        let mut text = lock(&self.text);
        self.file.write_batch(&mut text)
    }

    /// The loop is dropped: its last events are written, and the file is
    /// ended if no other loop traces to it.
    pub(crate) fn finish(self: &Arc<Buffer>) -> io::Result<()> {
        let result = self.flush();
        let mut state = lock(&self.file.state);
        let me = Arc::downgrade(self);
        state
            .live
            .retain(|w| !w.ptr_eq(&me) && w.strong_count() > 0);
        if state.live.is_empty() {
            state.close();
        }
        result
    }

    /// The path, for error messages.
    pub(crate) fn path(&self) -> &Path {
        &self.file.path
    }
}

impl TraceFile {
    fn create(path: PathBuf) -> TraceFile {
        let out = File::create(&path)
            .and_then(|mut f| f.write_all(b"[").map(|()| f))
            .map_err(|e| (e.kind(), e.to_string()));
        TraceFile {
            path,
            state: Mutex::new(FileState {
                out,
                len: 1,
                any: false,
                closed_at: None,
                ended: false,
                live: Vec::new(),
                largest_batch: 0,
            }),
        }
    }

    /// Writes `text` (whole events) at the file's end and empties it,
    /// keeping its capacity; on an error the events are dropped, so that
    /// memory stays bounded.
    fn write_batch(&self, text: &mut String) -> io::Result<()> {
        let mut state = lock(&self.state);
        state.largest_batch = state.largest_batch.max(text.len());
        let result = match &state.out {
            Err((kind, msg)) => Err(io::Error::new(*kind, msg.clone())),
            // Ended, or closed by its last loop's drop (a pool job of that
            // loop finishing late): nothing may follow the `]`.
            Ok(_) if text.is_empty() || state.ended || state.closed_at.is_some() => Ok(()),
            Ok(out) => {
                // The file's first event has no comma before it.
                let bytes = &text.as_bytes()[usize::from(!state.any)..];
                let written = out.write_all_at(bytes, state.len);
                if written.is_ok() {
                    state.len += bytes.len() as u64;
                    state.any = true;
                }
                written
            }
        };
        text.clear();
        result
    }
}

impl FileState {
    /// Writes the closing `]`, remembering where it starts.
    fn close(&mut self) {
        if self.closed_at.is_some() || self.ended {
            return;
        }
        if let Ok(out) = &self.out
            && out.write_all_at(b"\n]\n", self.len).is_ok()
        {
            self.closed_at = Some(self.len);
            self.len += 3;
        }
    }
}

/// The process is exiting (the `atexit` hook): every live loop's buffer is
/// written and every file ended.
fn finish_all() {
    let files: Vec<Arc<TraceFile>> = lock(&FILES).clone();
    for file in files {
        let live: Vec<Arc<Buffer>> = lock(&file.state)
            .live
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for buffer in live {
            let _ = buffer.flush();
        }
        let mut state = lock(&file.state);
        state.close();
        state.ended = true;
    }
}

/// The largest batch written to the trace file at `path` so far: what a
/// loop's buffer held at most (`None` if no loop traced there).
#[cfg(test)]
pub(crate) fn largest_batch(path: &Path) -> Option<usize> {
    let files = lock(&FILES);
    let file = files.iter().find(|f| f.path == path)?;
    Some(lock(&file.state).largest_batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventLoop, set_immediate};

    /// A run writing many times the buffer's size: every batch written was
    /// at most `FLUSH_AT` plus one event, and the file holds every event.
    #[test]
    fn a_long_traced_run_never_buffers_more_than_its_cap() {
        let _w = crate::test_watchdog::watchdog();
        let path =
            std::env::temp_dir().join(format!("evloop-trace-bounded-{}.json", std::process::id()));
        const IMMEDIATES: u32 = 20_000;
        let lp = EventLoop::builder().trace_file(&path).build().unwrap();
        lp.run_main(|| {
            fn chain(left: u32) {
                if left > 0 {
                    set_immediate(move || chain(left - 1));
                }
            }
            chain(IMMEDIATES);
        });
        let largest = largest_batch(&path).unwrap();
        drop(lp);
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        // Several hundred bytes per immediate: many times the buffer.
        assert!(text.len() > 50 * FLUSH_AT, "{} bytes", text.len());
        assert!(largest >= FLUSH_AT, "{largest}");
        assert!(largest <= FLUSH_AT + 4096, "a batch of {largest} bytes");
        // Every immediate's slice is in the file, which is one closed array
        // (that it parses as JSON is checked in tests/suite/trace.rs, where
        // serde_json is at hand).
        assert!(text.trim_start().starts_with('[') && text.trim_end().ends_with(']'));
        let slices = text.matches(r#""cat":"check","ph":"X""#).count();
        assert_eq!(slices, IMMEDIATES as usize);
    }
}

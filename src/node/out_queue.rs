//! [`OutQueue`]: the bytes a writable stream holds until its descriptor
//! takes them (Node's writable buffer, libuv's `write_queue`), shared by
//! the sockets of `net` and a child's stdin pipe.
//!
//! The owners keep their own rules (Node's high-water mark, `drain` on a
//! later tick, FIN or close once ending); the queue only keeps the order
//! and the count, and writes as far as a non-blocking descriptor goes.

use std::collections::VecDeque;
use std::io::{self, Write};

/// Chunks waiting to be written, in order, with the part of the first
/// already written and the total still queued.
#[derive(Default)]
pub(crate) struct OutQueue {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of `chunks[0]` already written.
    front_written: usize,
    /// Bytes not yet written, over every chunk (`writableLength`).
    len: usize,
}

/// How a [`OutQueue::write_to`] ended.
pub(crate) enum Flush {
    /// Everything queued was written.
    Done,
    /// The descriptor is full: wait for writable readiness.
    WouldBlock,
    /// A write failed; what was queued stays queued.
    Failed(io::Error),
}

impl OutQueue {
    /// Adds `data` at the end (an empty chunk is not queued).
    pub(crate) fn push(&mut self, data: Vec<u8>) {
        if !data.is_empty() {
            self.len += data.len();
            self.chunks.push_back(data);
        }
    }

    /// Bytes queued and not yet written.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Drops everything queued (a destroyed stream).
    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.front_written = 0;
        self.len = 0;
    }

    /// Writes the chunks in order until all are written, `w` would block,
    /// or a write fails (an interrupted write is retried). Returns the bytes
    /// written by this call and how it ended.
    pub(crate) fn write_to(&mut self, w: &mut impl Write) -> (usize, Flush) {
        let mut written = 0;
        while let Some(front) = self.chunks.front() {
            match w.write(&front[self.front_written..]) {
                Ok(n) => {
                    written += n;
                    self.len -= n;
                    self.front_written += n;
                    if self.front_written == front.len() {
                        self.chunks.pop_front();
                        self.front_written = 0;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return (written, Flush::WouldBlock);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (written, Flush::Failed(e)),
            }
        }
        (written, Flush::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `room` bytes per call, then would block
    /// once `budget` is spent; `fail` makes the next call an error.
    struct Pipe {
        got: Vec<u8>,
        room: usize,
        budget: usize,
        interrupt_once: bool,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if std::mem::take(&mut self.interrupt_once) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.room).min(self.budget);
            if n == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.budget -= n;
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn partial_writes_keep_the_order_and_the_count() {
        let _w = crate::test_watchdog::watchdog();
        let mut q = OutQueue::default();
        q.push(b"hello ".to_vec());
        q.push(Vec::new());
        q.push(b"world".to_vec());
        assert_eq!(q.len(), 11);
        let mut pipe = Pipe {
            got: Vec::new(),
            room: 4,
            budget: 7,
            interrupt_once: true,
        };
        let (n, how) = q.write_to(&mut pipe);
        assert!(matches!(how, Flush::WouldBlock));
        assert_eq!((n, q.len()), (7, 4));
        pipe.budget = usize::MAX;
        let (n, how) = q.write_to(&mut pipe);
        assert!(matches!(how, Flush::Done));
        assert_eq!((n, q.len(), q.is_empty()), (4, 0, true));
        assert_eq!(pipe.got, b"hello world");
    }

    #[test]
    fn a_failed_write_keeps_the_rest_queued_and_clear_drops_it() {
        let _w = crate::test_watchdog::watchdog();
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut q = OutQueue::default();
        q.push(b"abc".to_vec());
        let (n, how) = q.write_to(&mut Broken);
        assert!(matches!(how, Flush::Failed(e) if e.kind() == io::ErrorKind::BrokenPipe));
        assert_eq!((n, q.len()), (0, 3));
        q.clear();
        assert!(q.is_empty());
    }
}

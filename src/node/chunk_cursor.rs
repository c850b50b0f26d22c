//! Reading a stream of byte chunks (a child's stdout, stdin) as bytes:
//! [`ChunkCursor`] keeps the chunk being read and how far, for the
//! `futures-io` `AsyncRead` / `AsyncBufRead` impls of the chunk streams.

use std::io;
use std::task::{Context, Poll};

/// The chunk being read through `AsyncRead` / `AsyncBufRead`, and how far.
/// The stream's `poll_next` gives the unread rest first ([`take_rest`]),
/// so both views of one stream share a position.
///
/// [`take_rest`]: ChunkCursor::take_rest
#[derive(Default)]
pub(in crate::node) struct ChunkCursor {
    current: Vec<u8>,
    pos: usize,
}

impl ChunkCursor {
    /// The unread rest of the current chunk, if any: the stream's next item.
    pub(in crate::node) fn take_rest(&mut self) -> Option<Vec<u8>> {
        if self.pos >= self.current.len() {
            return None;
        }
        let mut rest = std::mem::take(&mut self.current);
        rest.drain(..std::mem::take(&mut self.pos));
        Some(rest)
    }

    /// The unread rest of the current chunk, or the next one from `next`
    /// (waiting for it); at the end, `end()`: empty, or the error that
    /// ended the stream.
    pub(in crate::node) fn poll_fill_buf(
        &mut self,
        cx: &mut Context<'_>,
        mut next: impl FnMut(&mut Context<'_>) -> Poll<Option<Vec<u8>>>,
        end: impl FnOnce() -> io::Result<()>,
    ) -> Poll<io::Result<&[u8]>> {
        while self.pos >= self.current.len() {
            match next(cx) {
                Poll::Ready(Some(chunk)) => (self.current, self.pos) = (chunk, 0),
                Poll::Ready(None) => return Poll::Ready(end().map(|()| &[][..])),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(&self.current[self.pos..]))
    }

    pub(in crate::node) fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.current.len());
    }

    /// `poll_fill_buf`, then copies what fits into `buf` and consumes it.
    pub(in crate::node) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        next: impl FnMut(&mut Context<'_>) -> Poll<Option<Vec<u8>>>,
        end: impl FnOnce() -> io::Result<()>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = match self.poll_fill_buf(cx, next, end) {
            Poll::Ready(Ok(chunk)) => {
                let n = chunk.len().min(buf.len());
                buf[..n].copy_from_slice(&chunk[..n]);
                n
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

#[cfg(test)]
mod tests {
    use super::ChunkCursor;
    use std::collections::VecDeque;
    use std::io;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn reads_across_chunks_and_the_rest_is_the_next_item() {
        let _w = crate::test_watchdog::watchdog();
        let mut chunks: VecDeque<Vec<u8>> = [b"abc".to_vec(), b"de".to_vec()].into();
        let mut cx = Context::from_waker(Waker::noop());
        let mut c = ChunkCursor::default();
        let mut buf = [0u8; 2];
        let mut next = |_: &mut Context<'_>| Poll::Ready(chunks.pop_front());
        let r = c.poll_read(&mut cx, &mut next, || Ok(()), &mut buf);
        assert!(matches!(r, Poll::Ready(Ok(2))));
        assert_eq!(&buf, b"ab");
        // The stream's next item is the unread rest, once.
        assert_eq!(c.take_rest().as_deref(), Some(&b"c"[..]));
        assert_eq!(c.take_rest(), None);
        let r = c.poll_read(&mut cx, &mut next, || Ok(()), &mut buf);
        assert!(matches!(r, Poll::Ready(Ok(2))));
        assert_eq!(&buf, b"de");
        // The end: nothing, or the error that ended the stream.
        let r = c.poll_read(&mut cx, &mut next, || Ok(()), &mut buf);
        assert!(matches!(r, Poll::Ready(Ok(0))));
        let r = c.poll_fill_buf(&mut cx, &mut next, || Err(io::ErrorKind::Other.into()));
        assert!(matches!(r, Poll::Ready(Err(_))));
    }
}

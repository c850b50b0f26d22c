//! The readiness reactor: one `mio::Poll`, its event buffer and the waker
//! that other threads use to interrupt a blocking poll.
//!
//! The poll phase calls into the OS only when it has to: when an OS source is
//! registered, when a cross-thread post has been flagged, or when the loop
//! must block. A zero-timeout poll with nothing registered can observe
//! nothing, so it is skipped; this keeps a chain of immediates (one loop turn
//! each) free of syscalls.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use mio::{Events, Poll, Token, Waker};

/// Token of the cross-thread waker. I/O sources use slab indices below it.
pub(crate) const WAKE_TOKEN: Token = Token(usize::MAX);

pub(crate) struct Reactor {
    poll: Poll,
    events: Events,
    /// OS sources registered besides the waker.
    sources: usize,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<(Reactor, Waker)> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKE_TOKEN)?;
        let reactor = Reactor {
            poll,
            events: Events::with_capacity(1024),
            sources: 0,
        };
        Ok((reactor, waker))
    }

    pub(crate) fn backend_fd(&self) -> RawFd {
        self.poll.as_raw_fd()
    }

    /// Whether a poll with this timeout could observe anything or has to wait.
    pub(crate) fn must_poll(&self, timeout: Option<Duration>, woken: bool) -> bool {
        woken || self.sources > 0 || timeout != Some(Duration::ZERO)
    }

    /// Waits for readiness (or the timeout); returns the number of events.
    /// `EINTR` counts as a wake-up with no events.
    pub(crate) fn poll(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => Ok(self.events.iter().count()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}

//! The readiness reactor: one `mio::Poll`, its event buffer, the waker that
//! other threads use to interrupt a blocking poll, and the table of I/O
//! sources (sockets, listeners) with the handler each event goes to.
//!
//! Registrations are edge-triggered (mio always is): a handler must read or
//! write until `WouldBlock`, or remember that more is there. Each source is
//! registered once for both directions, so no `epoll_ctl` is needed as a
//! socket's interest changes.
//!
//! The poll phase calls into the OS only when it has to: when an OS source is
//! registered, when a cross-thread post has been flagged, or when the loop
//! must block. A zero-timeout poll with nothing registered can observe
//! nothing, so it is skipped; this keeps a chain of immediates (one loop turn
//! each) free of syscalls.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use mio::event::Source;
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use crate::rt::refs::{KeepAlive, RefCount};
use crate::rt::walk::HandleKind;

/// Token of the cross-thread waker. I/O sources use slab indices below it.
pub(crate) const WAKE_TOKEN: Token = Token(usize::MAX);

/// What a source's owner does when the OS reports readiness.
pub(crate) trait Ready {
    /// Called in the poll phase, once per event, with what became ready.
    /// Hang-ups and errors are reported as both readable and writable, so the
    /// next read or write surfaces them.
    fn ready(self: Rc<Self>, readable: bool, writable: bool);

    /// The loop is being dropped with this source still registered (the
    /// reactor has already forgotten its token): close the descriptor and
    /// drop the user's handlers now. Handlers often hold the source itself
    /// (an echo handler holds its socket), a cycle nothing else would break,
    /// so without this the socket and its descriptor would leak.
    fn teardown(&self) {}
}

struct Entry {
    handler: Rc<dyn Ready>,
    keep: KeepAlive,
    /// What the source is, for `walk`.
    kind: HandleKind,
}

/// Readiness taken from one poll: (token, readable, writable).
pub(crate) type Fired = std::collections::VecDeque<(usize, bool, bool)>;

pub(crate) struct Reactor {
    poll: Poll,
    events: Events,
    sources: Slab<Entry>,
    /// Referenced sources: they keep the loop alive. Every entry leaves
    /// `sources` through `deregister` or `take_all`, which hand its flag
    /// back.
    refs: RefCount,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<(Reactor, Waker)> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKE_TOKEN)?;
        let reactor = Reactor {
            poll,
            events: Events::with_capacity(1024),
            sources: Slab::new(),
            refs: RefCount::default(),
        };
        Ok((reactor, waker))
    }

    pub(crate) fn backend_fd(&self) -> RawFd {
        self.poll.as_raw_fd()
    }

    /// Referenced sources registered: they keep the loop alive.
    pub(crate) fn referenced(&self) -> usize {
        self.refs.get()
    }

    /// (referenced, all) sources registered.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.refs.get(), self.sources.len())
    }

    /// Every source as (kind, referenced), for `walk`.
    pub(crate) fn handles(&self) -> impl Iterator<Item = (HandleKind, bool)> + '_ {
        self.sources.iter().map(|(_, e)| (e.kind, e.keep.is_on()))
    }

    /// Whether a poll with this timeout could observe anything or has to wait.
    pub(crate) fn must_poll(&self, timeout: Option<Duration>, woken: bool) -> bool {
        woken || !self.sources.is_empty() || timeout != Some(Duration::ZERO)
    }

    /// Registers `source` (a `kind`) for reading and writing; events go to
    /// `handler`.
    pub(crate) fn register(
        &mut self,
        source: &mut impl Source,
        handler: Rc<dyn Ready>,
        kind: HandleKind,
    ) -> io::Result<usize> {
        let entry = self.sources.vacant_entry();
        let token = entry.key();
        self.poll.registry().register(
            source,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        entry.insert(Entry {
            handler,
            keep: self.refs.add(),
            kind,
        });
        Ok(token)
    }

    /// Registers `source` again under its token, so that epoll reports it
    /// once more if it is ready now (`EPOLL_CTL_MOD` re-checks an
    /// edge-triggered source): a level-triggered source on an
    /// edge-triggered poll (`FdWatcher`).
    pub(crate) fn rearm(&self, source: &mut impl Source, token: usize) -> io::Result<()> {
        self.poll.registry().reregister(
            source,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        )
    }

    /// Removes a source; its token may be reused afterwards. Returns the
    /// handler so the caller can drop it outside any borrow.
    pub(crate) fn deregister(
        &mut self,
        source: &mut impl Source,
        token: usize,
    ) -> Option<Rc<dyn Ready>> {
        let entry = self.sources.try_remove(token)?;
        // The fd is about to close anyway; a failure here changes nothing.
        let _ = self.poll.registry().deregister(source);
        self.refs.remove(entry.keep);
        Some(entry.handler)
    }

    /// Removes `source` from the OS poll alone, for a source whose entry
    /// `take_all` already took (at teardown) but which lives on and may be
    /// registered with another loop (mio refuses a source it believes is
    /// still registered).
    pub(super) fn deregister_os(&self, source: &mut impl Source) {
        let _ = self.poll.registry().deregister(source);
    }

    /// Forgets every source (loop teardown) and hands back their handlers.
    pub(super) fn take_all(&mut self) -> Vec<Rc<dyn Ready>> {
        self.sources
            .drain()
            .map(|e| {
                self.refs.remove(e.keep);
                e.handler
            })
            .collect()
    }

    /// Sets whether a source keeps the loop alive.
    pub(crate) fn set_ref(&mut self, token: usize, on: bool) {
        if let Some(e) = self.sources.get_mut(token) {
            self.refs.set(&mut e.keep, on);
        }
    }

    pub(crate) fn handler(&self, token: usize) -> Option<Rc<dyn Ready>> {
        self.sources.get(token).map(|e| e.handler.clone())
    }

    /// Waits for readiness (or the timeout) and appends what fired to
    /// `fired` (the waker's event is left out: the wake flag reports it).
    /// `EINTR` counts as a wake-up with no events.
    pub(crate) fn poll(&mut self, timeout: Option<Duration>, fired: &mut Fired) -> io::Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        for event in self.events.iter() {
            if event.token() == WAKE_TOKEN {
                continue;
            }
            let broken = event.is_error() || event.is_read_closed() || event.is_write_closed();
            fired.push_back((
                event.token().0,
                event.is_readable() || broken,
                event.is_writable() || broken,
            ));
        }
        Ok(())
    }
}

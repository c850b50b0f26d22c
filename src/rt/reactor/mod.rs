//! I/O sources' registrations with their own loop's reactor, and closing
//! them at teardown. The reactor itself, which `Core` owns, is in
//! [`poller`].

pub(crate) mod poller;

use std::io;
use std::rc::{Rc, Weak};

use mio::event::Source;

use crate::rt::core::Core;
use crate::rt::walk::HandleKind;
pub(crate) use poller::Ready;

/// A registered source's place: its own loop, held weakly (a socket must
/// not keep a dropped loop's memory), and its token there. Deregistering and
/// (un)ref'ing go to that loop's reactor, also when another loop of the same
/// thread is the one running (a socket of one loop closed from a callback of
/// another): a token means nothing in another loop's table, where it could
/// name some other source.
pub(crate) struct Registration {
    core: Weak<Core>,
    token: usize,
}

impl Registration {
    /// Registers `source` (a `kind`, which `walk` reports) in `core`'s
    /// reactor; events go to `handler`.
    pub(crate) fn new(
        core: &Core,
        source: &mut impl Source,
        handler: Rc<dyn Ready>,
        kind: HandleKind,
    ) -> io::Result<Registration> {
        let token = core.reactor.borrow_mut().register(source, handler, kind)?;
        Ok(Registration {
            core: core.this.clone(),
            token,
        })
    }

    /// Removes the source from its loop's reactor and returns its handler,
    /// to be dropped outside any borrow; `None` if the loop is gone.
    pub(crate) fn deregister(self, source: &mut impl Source) -> Option<Rc<dyn Ready>> {
        let core = self.core.upgrade()?;
        let mut reactor = core.reactor.borrow_mut();
        reactor.deregister(source, self.token)
    }

    /// At teardown, after the reactor forgot the source (`Ready::teardown`):
    /// removes it from the OS poll too, for a source that outlives its loop
    /// (a signal pipe goes back to a process-wide pool).
    pub(crate) fn detach(self, source: &mut impl Source) {
        if let Some(core) = self.core.upgrade() {
            core.reactor.borrow().deregister_os(source);
        }
    }

    /// Asks the OS to report the source again if it is ready now (see
    /// `Reactor::rearm`); `Ok` if the loop is gone.
    pub(crate) fn rearm(&self, source: &mut impl Source) -> io::Result<()> {
        match self.core.upgrade() {
            Some(core) => core.reactor.borrow().rearm(source, self.token),
            None => Ok(()),
        }
    }

    /// Sets whether the source keeps its loop alive.
    pub(crate) fn set_ref(&self, on: bool) {
        if let Some(core) = self.core.upgrade() {
            core.reactor.borrow_mut().set_ref(self.token, on);
        }
    }

    /// The source's loop, if it still exists.
    pub(crate) fn core(&self) -> Option<Rc<Core>> {
        self.core.upgrade()
    }
}

impl Core {
    /// Loop teardown: closes every source still registered and drops its
    /// handlers, while the loop is still current (so their destructors can
    /// reach it, as those of queued callbacks can). Returns how many.
    pub(crate) fn close_sources(&self) -> usize {
        let handlers = self.reactor.borrow_mut().take_all();
        let n = handlers.len();
        // Each on its own: a handler's destructor may panic (see `teardown`).
        let what = "a socket's or server's handlers";
        for h in &handlers {
            crate::rt::panic::run_in_teardown(what, None, || h.teardown());
        }
        for h in handlers {
            crate::rt::panic::drop_in_teardown(h, what, None);
        }
        n
    }
}

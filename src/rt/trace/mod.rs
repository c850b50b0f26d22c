//! Watching the loop work: the phase trace (`EVLOOP_TRACE=1`), the Chrome
//! trace file (`EVLOOP_TRACE_FILE=path.json`), the blocked-loop watchdog,
//! and [`snapshot`]s of the queues.
//!
//! All of it is off by default and then costs nothing: the loop runs each
//! iteration through one of two monomorphised copies of its phase code, and
//! only the observed copy (`OBSERVE = true`) calls into this module around
//! callbacks and phases. Snapshots read the queues only when asked.

pub(crate) mod capture;
pub(crate) mod chrome;
pub(crate) mod counts;
pub(crate) mod observer;
pub(crate) mod replay;
pub(crate) mod stepper;

pub use counts::{Labels, Phase, RefCounts, Snapshot};

use crate::rt::callback;
use crate::rt::context::with_core;
use crate::rt::core::Core;

/// A [`Snapshot`] of the current loop.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn snapshot() -> Snapshot {
    with_core("snapshot", Core::snapshot)
}

/// The replay's and the stepper's hooks, which need the loop as well as
/// its observer.
impl Core {
    /// Records with the loop's replay, if it records: `f` gets the replay
    /// and the loop's cached time. One branch when nothing records.
    #[inline]
    pub(in crate::rt) fn record(&self, f: impl FnOnce(&replay::Replay, u64)) {
        if let Some(o) = &self.observer {
            record_observed(self, o, f);
        }
    }

    /// A callback scheduled at `site` starts (observed loops only).
    pub(in crate::rt) fn observe_begin(&self, o: &observer::Observer, site: callback::Site) {
        let from = o.take_from();
        if let Some(r) = &o.replay {
            r.run(self.clock.cached_ms(), from, site);
        }
        if let Some(s) = &o.step {
            let what = stepper::describe(from, &callback::describe_site(site));
            s.enter(what, &self.snapshot());
        }
    }

    /// The running callback returned or panicked (observed loops only).
    pub(in crate::rt) fn observe_end(&self, o: &observer::Observer, panicked: bool) {
        o.pop_frame();
        if let Some(r) = &o.replay {
            r.ret(self.clock.cached_ms(), panicked);
        }
        if let Some(s) = &o.step {
            s.leave();
        }
    }
}

/// [`Core::record`] once the loop is known to be observed: out of line, so
/// that each hook costs an unobserved loop one test and branch (inlined,
/// the hooks kept `Executor::push_poll` from inlining: `tasks` +3%).
#[cold]
#[inline(never)]
fn record_observed(core: &Core, o: &observer::Observer, f: impl FnOnce(&replay::Replay, u64)) {
    if let Some(r) = &o.replay {
        f(r, core.clock.cached_ms());
    }
}

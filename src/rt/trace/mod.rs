//! Watching the loop work: the phase trace (`EVLOOP_TRACE=1`), the Chrome
//! trace file (`EVLOOP_TRACE_FILE=path.json`), the blocked-loop watchdog,
//! and [`snapshot`]s of the queues.
//!
//! All of it is off by default and then costs nothing: the loop runs each
//! iteration through one of two monomorphised copies of its phase code, and
//! only the observed copy (`OBSERVE = true`) calls into this module around
//! callbacks and phases. Snapshots read the queues only when asked.

pub(crate) mod counts;
pub(crate) mod observer;

pub use counts::{Labels, RefCounts, Snapshot};
pub use observer::Phase;

use crate::rt::context::with_core;
use crate::rt::core::Core;

/// A [`Snapshot`] of the current loop.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn snapshot() -> Snapshot {
    with_core("snapshot", Core::snapshot)
}

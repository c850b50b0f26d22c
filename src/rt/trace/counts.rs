//! What a [`Snapshot`] reports: the queues' counts and, in teaching mode,
//! their labels. `Core::snapshot` fills it.

use crate::rt::callback::{Site, describe_site};
use crate::rt::trace::observer::Phase;

/// How many handles of one kind are open, by whether they keep the loop
/// alive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefCounts {
    /// Keeping the loop alive.
    pub referenced: usize,
    /// Open but unref'd.
    pub unreferenced: usize,
}

/// A picture of the loop's state: what is queued where, what is open.
///
/// Take one with [`snapshot`](crate::snapshot) from inside a callback, or
/// [`EventLoop::snapshot`](crate::EventLoop::snapshot) between runs. In
/// teaching mode ([`Builder::teaching`](crate::Builder::teaching)) it also
/// lists, for each queue, where each waiting callback was scheduled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The phase running now.
    pub phase: Phase,
    /// Iterations started so far.
    pub iteration: u64,
    /// Callbacks in the next-tick queue.
    pub next_ticks: usize,
    /// Callbacks in the microtask queue (task polls included).
    pub microtasks: usize,
    /// Timers pending (running intervals included).
    pub timers: RefCounts,
    /// Immediates waiting for the check phase.
    pub immediates: RefCounts,
    /// Callbacks deferred to the next pending phase.
    pub pending: usize,
    /// Close callbacks waiting for the close phase.
    pub closing: usize,
    /// Thread-pool jobs waiting for a thread.
    pub pool_queued: usize,
    /// Thread-pool jobs running on a thread.
    pub pool_running: usize,
    /// Tasks not finished.
    pub tasks: usize,
    /// Sockets and listeners registered with the reactor.
    pub io: RefCounts,
    /// Referenced cross-thread handles (`LoopHandle`).
    pub loop_handles: usize,
    /// Teaching mode only: the scheduling sites (`file:line`) of what waits,
    /// queue by queue, in the order it will run.
    pub labels: Option<Labels>,
}

/// Where the waiting callbacks of each queue were scheduled (`file:line`),
/// in run order; a timer or immediate given a name with `set_name` shows as
/// `name (file:line)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels {
    /// The next-tick queue.
    pub next_ticks: Vec<String>,
    /// The microtask queue.
    pub microtasks: Vec<String>,
    /// Timers, by deadline then creation.
    pub timers: Vec<String>,
    /// Immediates.
    pub immediates: Vec<String>,
    /// The pending queue.
    pub pending: Vec<String>,
    /// The close queue.
    pub closing: Vec<String>,
}

pub(crate) fn labels_of<'a>(sites: impl Iterator<Item = Site> + 'a) -> Vec<String> {
    sites.map(describe_site).collect()
}

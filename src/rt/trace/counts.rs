//! What a [`Snapshot`] reports: the queues' counts and, in teaching mode,
//! their labels. `Core::snapshot` fills it.

use std::fmt;

use crate::rt::callback::{Site, describe_site};

/// The phase the loop is in (libuv's order), or outside any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Not iterating: the main script, `enter`, or between runs.
    Main,
    /// Expired timers.
    Timers,
    /// I/O callbacks deferred from the previous iteration.
    Pending,
    /// Idle and prepare handles ([`Idle`](crate::Idle),
    /// [`Prepare`](crate::Prepare)); traced only in iterations that run one.
    IdlePrepare,
    /// Waiting for I/O, then I/O callbacks and cross-thread posts.
    Poll,
    /// Check handles ([`Check`](crate::Check)), then immediates.
    Check,
    /// Close callbacks.
    Close,
}

impl Phase {
    /// The phase's name in a replay recording.
    pub(crate) fn replay_name(self) -> &'static str {
        match self {
            Phase::IdlePrepare => "idle",
            p => p.name(),
        }
    }

    /// The phase's name as libuv's docs write it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Main => "main",
            Phase::Timers => "timers",
            Phase::Pending => "pending",
            Phase::IdlePrepare => "idle/prepare",
            Phase::Poll => "poll",
            Phase::Check => "check",
            Phase::Close => "close",
        }
    }
}

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
    /// Closures posted from other threads (or completed pool jobs) waiting
    /// for a poll phase. The inbox holds storage only for these: a drained
    /// burst leaves none behind.
    pub posts_queued: usize,
    /// Teaching mode only: the scheduling sites (`file:line`) of what waits,
    /// queue by queue, in the order it will run.
    pub labels: Option<Labels>,
}

impl fmt::Display for Snapshot {
    /// One line, every count in the fields' order, a handle count with its
    /// unreferenced part in parentheses when there is one:
    ///
    /// ```text
    /// iteration 3, phase poll: next ticks 0, microtasks 1, timers 2 (1 unref'd), immediates 0, pending 0, closing 0, pool 0 queued 1 running, tasks 1, I/O 1, loop handles 0, posts 0
    /// ```
    ///
    /// With labels (teaching mode), one more line per queue that holds
    /// anything, indented: `  timers: src/main.rs:4, src/main.rs:9`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn handles(n: RefCounts) -> String {
            match n.unreferenced {
                0 => n.referenced.to_string(),
                u => format!("{} ({u} unref'd)", n.referenced + u),
            }
        }
        write!(
            f,
            "iteration {}, phase {}: next ticks {}, microtasks {}, timers {}, immediates {}, \
             pending {}, closing {}, pool {} queued {} running, tasks {}, I/O {}, \
             loop handles {}, posts {}",
            self.iteration,
            self.phase.name(),
            self.next_ticks,
            self.microtasks,
            handles(self.timers),
            handles(self.immediates),
            self.pending,
            self.closing,
            self.pool_queued,
            self.pool_running,
            self.tasks,
            handles(self.io),
            self.loop_handles,
            self.posts_queued,
        )?;
        if let Some(l) = &self.labels {
            let queues = [
                ("next ticks", &l.next_ticks),
                ("microtasks", &l.microtasks),
                ("timers", &l.timers),
                ("immediates", &l.immediates),
                ("pending", &l.pending),
                ("closing", &l.closing),
            ];
            for (name, sites) in queues {
                if !sites.is_empty() {
                    write!(f, "\n  {name}: {}", sites.join(", "))?;
                }
            }
        }
        Ok(())
    }
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
    /// The close queue, in the order it runs: newest first, as libuv's.
    pub closing: Vec<String>,
}

pub(crate) fn labels_of<'a>(sites: impl Iterator<Item = Site> + 'a) -> Vec<String> {
    sites.map(describe_site).collect()
}

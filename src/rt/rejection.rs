//! Node's unhandled rejections, the data: what a rejection is (a
//! `spawn_fallible` task that ended in `Err` with nothing awaiting it), the
//! modes of `--unhandled-rejections`, and the lists a loop keeps between a
//! rejection and its check. The check, run after the tick and microtask
//! drain as Node's `processTicksAndRejections` runs it, is in `drain`.

use std::fmt;
use std::io;

use crate::rt::callback::{Site, describe_site};
use crate::rt::env;

/// A rejection nobody handled in time, the payload of
/// [`process::UnhandledRejection`](crate::process::UnhandledRejection) and
/// [`process::RejectionHandled`](crate::process::RejectionHandled): a
/// [`spawn_fallible`](crate::spawn_fallible) task that ended in `Err` while
/// nothing awaited its [`Task`](crate::Task).
#[derive(Clone, PartialEq, Eq)]
pub struct Rejection {
    id: u64,
    reason: String,
    site: Site,
}

impl Rejection {
    /// The loop's number for this rejection, from 1 (Node's "rejection
    /// id"): a later `RejectionHandled` carries the same.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The error, as its `Debug` text (the reason).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Where the task was spawned.
    pub fn site(&self) -> Site {
        self.site
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("id", &self.id)
            .field("reason", &self.reason)
            .field("site", &describe_site(self.site))
            .finish()
    }
}

/// What a loop does with a rejection nobody handled in time, Node's
/// `--unhandled-rejections=MODE` (set with
/// [`Builder::unhandled_rejections`](crate::Builder::unhandled_rejections)
/// or `EVLOOP_UNHANDLED_REJECTIONS`). "Emit" is
/// [`process::UnhandledRejection`](crate::process::UnhandledRejection);
/// "raise" is an uncaught panic (the loop's panic policy: the handler, or
/// the run unwinds); "warn" a process warning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UnhandledRejections {
    /// Node 20's default (`throw`): emit; with no listener, raise.
    #[default]
    Throw,
    /// `strict`: raise; if the panic handler took it, emit, and warn if
    /// nobody listened.
    Strict,
    /// `warn`: emit, and always warn.
    Warn,
    /// `none`: emit only.
    None,
    /// `warn-with-error-code`: emit; with no listener, warn and set the
    /// exit code to 1.
    WarnWithErrorCode,
}

impl UnhandledRejections {
    /// The mode Node's flag names, e.g. `"warn-with-error-code"`.
    fn parse(name: &str) -> Option<UnhandledRejections> {
        Some(match name {
            "throw" => UnhandledRejections::Throw,
            "strict" => UnhandledRejections::Strict,
            "warn" => UnhandledRejections::Warn,
            "none" => UnhandledRejections::None,
            "warn-with-error-code" => UnhandledRejections::WarnWithErrorCode,
            _ => return None,
        })
    }
}

/// The name of the environment variable that sets the mode.
pub(in crate::rt) const ENV: &str = "EVLOOP_UNHANDLED_REJECTIONS";

/// The mode from `EVLOOP_UNHANDLED_REJECTIONS`, if set (blank is unset).
///
/// # Errors
/// `InvalidInput` naming the variable for a value that is not a mode.
pub(in crate::rt) fn mode_from_env() -> io::Result<Option<UnhandledRejections>> {
    env::parse(
        ENV,
        "the mode must be throw, strict, warn, none or warn-with-error-code",
        UnhandledRejections::parse,
    )
}

/// A loop's rejections between the moment a task failed and the checks.
#[derive(Default)]
pub(in crate::rt) struct Rejections {
    /// Failed with nothing awaiting, not checked yet: (task key, rejection).
    pub(in crate::rt) pending: Vec<(u64, Rejection)>,
    /// Reported while a handle could still await it.
    pub(in crate::rt) warned: Vec<(u64, Rejection)>,
    /// Reported, then awaited: `RejectionHandled` at the next check.
    pub(in crate::rt) handled_late: Vec<Rejection>,
    pub(in crate::rt) next_id: u64,
}

impl Rejections {
    /// Records a failed task's rejection.
    pub(in crate::rt) fn push(&mut self, key: u64, reason: String, site: Site) {
        self.next_id += 1;
        let id = self.next_id;
        self.pending.push((key, Rejection { id, reason, site }));
    }

    /// Task `key` is awaited: its rejection is handled in time if it was not
    /// checked yet (`false`), or late (`true`: queued for `RejectionHandled`).
    pub(in crate::rt) fn handled(&mut self, key: u64) -> bool {
        if let Some(i) = self.pending.iter().position(|(k, _)| *k == key) {
            self.pending.remove(i);
            return false;
        }
        if let Some(i) = self.warned.iter().position(|(k, _)| *k == key) {
            let (_, r) = self.warned.remove(i);
            self.handled_late.push(r);
            return true;
        }
        false
    }

    /// Task `key`'s handle was dropped: a reported rejection can no longer
    /// be handled.
    pub(in crate::rt) fn forget(&mut self, key: u64) {
        self.warned.retain(|(k, _)| *k != key);
    }
}

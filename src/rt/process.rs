//! The loop's side of Node's `process` events: what the loop itself knows
//! of them (a warning to deliver, the loop running empty, the end of a
//! main script), and the hook point through which `node::process`, above
//! it, turns them into `'warning'`, `'beforeExit'` and `'exit'` events.
//! The loop never calls up except through [`ProcessHooks`], which the node
//! layer installs the first time a program touches `evloop::process`; until
//! then nobody can be listening, and a warning is only printed. The end of a
//! main script, which emits `'beforeExit'` and `'exit'` through them, is
//! `event_loop::run_to_exit`.

use std::borrow::Cow;
use std::fmt;
use std::io::Write;
use std::panic::Location;
use std::sync::OnceLock;

use crate::rt::callback::{Callback, Site};
use crate::rt::context::try_with_core;
use crate::rt::core::Core;
use crate::rt::rejection::Rejection;

/// A process warning, what Node's `process.emitWarning` builds and its
/// `'warning'` listeners receive: a name (Node's `warning.name`, e.g.
/// `"TimeoutOverflowWarning"`; `"Warning"` by default), a message, and an
/// optional code (`warning.code`, e.g. `"DEP0005"`).
///
/// ```
/// let w = evloop::process::ProcessWarning::new("Slow").with_name("MyWarning").with_code("E1");
/// assert_eq!(w.to_string(), "[E1] MyWarning: Slow");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessWarning {
    name: Cow<'static, str>,
    message: String,
    code: Option<String>,
}

impl ProcessWarning {
    /// A warning named `"Warning"` with this message and no code.
    pub fn new(message: impl Into<String>) -> ProcessWarning {
        ProcessWarning {
            name: Cow::Borrowed("Warning"),
            message: message.into(),
            code: None,
        }
    }

    /// The same warning with another name (Node's `type` argument).
    pub fn with_name(mut self, name: impl Into<Cow<'static, str>>) -> ProcessWarning {
        self.name = name.into();
        self
    }

    /// The same warning with a code (Node's `code` option).
    pub fn with_code(mut self, code: impl Into<String>) -> ProcessWarning {
        self.code = Some(code.into());
        self
    }

    /// The warning's name, e.g. `"MaxListenersExceededWarning"`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The warning's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The warning's code, if it has one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
}

impl From<&str> for ProcessWarning {
    fn from(message: &str) -> ProcessWarning {
        ProcessWarning::new(message)
    }
}

impl From<String> for ProcessWarning {
    fn from(message: String) -> ProcessWarning {
        ProcessWarning::new(message)
    }
}

/// As Node prints it after `(node:PID) `: `[CODE] Name: message`.
impl fmt::Display for ProcessWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(code) = &self.code {
            write!(f, "[{code}] ")?;
        }
        write!(f, "{}: {}", self.name, self.message)
    }
}

/// What the node layer does with each process event of the current loop.
pub(crate) struct ProcessHooks {
    /// Emit `'warning'` (the warning is printed by the loop either way).
    pub(crate) warning: fn(&ProcessWarning),
    /// Emit `'beforeExit'`.
    pub(crate) before_exit: fn(),
    /// Emit `'exit'`.
    pub(crate) exit: fn(),
    /// Emit `'unhandledRejection'`; whether anyone listened.
    pub(crate) unhandled_rejection: fn(&Rejection) -> bool,
    /// Emit `'rejectionHandled'`; whether anyone listened.
    pub(crate) rejection_handled: fn(&Rejection) -> bool,
}

static HOOKS: OnceLock<ProcessHooks> = OnceLock::new();

/// The node layer's hooks, once it installed them.
pub(in crate::rt) fn hooks() -> Option<&'static ProcessHooks> {
    HOOKS.get()
}

/// Installs the node layer's hooks (once per process; later calls keep the
/// first).
pub(crate) fn install(hooks: ProcessHooks) {
    let _ = HOOKS.set(hooks);
}

/// `process.emitWarning`: on a later tick of the current loop (a next
/// tick, as Node's `emitWarning` uses), prints the warning on stderr in
/// Node's format and emits `'warning'`; never inside the call that caused
/// it. With no loop running on this thread (an emitter used on its own)
/// there is no later tick, and both happen now.
#[track_caller]
pub(crate) fn emit_warning(warning: ProcessWarning) {
    emit_warning_at(warning, Location::caller());
}

/// [`emit_warning`] for a warning caused by the call at `site`.
pub(crate) fn emit_warning_at(warning: ProcessWarning, site: Site) {
    let mut warning = Some(warning);
    let queued = try_with_core(|core| {
        let w = warning.take().expect("taken once");
        core.push_tick(Callback::new(move || deliver(&w), site));
    });
    if queued.is_none()
        && let Some(w) = warning
    {
        deliver(&w);
    }
}

/// Node's default `'warning'` listener, which comes first (it prints), then
/// the program's listeners.
fn deliver(warning: &ProcessWarning) {
    let text = format!("(evloop:{}) {warning}\n", std::process::id());
    // A closed stderr loses the line, as Node's would.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    if let Some(hooks) = HOOKS.get() {
        (hooks.warning)(warning);
    }
}

/// The executor's reports of rejections (`executor::poll::finish`,
/// `Task`): the lists the check after the drain reads (`drain`).
impl Core {
    /// Task `key` (spawned at `site`) failed with `reason` while nothing
    /// awaited it.
    pub(in crate::rt) fn reject(&self, key: u64, reason: String, site: Site) {
        self.rejections.borrow_mut().push(key, reason, site);
        self.rejections_due.set(true);
    }

    /// Task `key` is awaited once it has failed: handled in time, or late
    /// (then `RejectionHandled` comes at the next check).
    pub(in crate::rt) fn rejection_handled(&self, key: u64) {
        if self.rejections.borrow_mut().handled(key) {
            self.rejections_due.set(true);
        }
    }

    /// Task `key`'s handle was dropped after it failed.
    pub(in crate::rt) fn rejection_forgotten(&self, key: u64) {
        self.rejections.borrow_mut().forget(key);
    }
}

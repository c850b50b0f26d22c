//! Node's `process` events, for the current loop: `process.on('warning')`,
//! `'beforeExit'`, `'exit'`, `'unhandledRejection'` and
//! `'rejectionHandled'`, and `process.emitWarning`; and signals
//! (`process.on('SIGINT')`): [`on_signal`], [`signals`], whose rules are on
//! [`on_signal`]; and the standard streams: [`stdin`], [`stdout`],
//! [`stderr`] (read and written by threads, so the loop never blocks on
//! them; TTY size and `resize` on [`StdWriter`]).
//!
//! Each loop has one process emitter ([`emitter`]), an ordinary
//! [`EventEmitter`]: [`on`] and [`once`] are shorthands for it, and
//! `off`, listener counts and the other methods work on it as on any
//! emitter. The events are typed markers, as for every emitter:
//!
//! | Node | evloop | payload | when |
//! |---|---|---|---|
//! | `'warning'` | [`Warning`] | [`ProcessWarning`] | on a next tick after [`emit_warning`], a timer delay over [`TIMEOUT_MAX`](crate::TIMEOUT_MAX), an emitter's 11th listener |
//! | `'beforeExit'` | [`BeforeExit`] | the exit code | each time the loop of a main script runs empty |
//! | `'exit'` | [`Exit`] | the exit code | once, after the last `BeforeExit` |
//! | `'unhandledRejection'` | [`UnhandledRejection`] | [`Rejection`] | after the drain in which a [`spawn_fallible`](crate::spawn_fallible) task failed with nothing awaiting it |
//! | `'rejectionHandled'` | [`RejectionHandled`] | [`Rejection`] | after the drain in which such a reported task was awaited |
//!
//! What an unhandled rejection does when nobody listens is the loop's
//! [`UnhandledRejections`] mode (Node 20's `throw` by default: an uncaught
//! panic); the rule is on [`spawn_fallible`](crate::spawn_fallible).
//!
//! A warning is printed on stderr whether or not anyone listens, as Node's
//! default listener does: `(evloop:PID) Name: message` (`[CODE] ` before
//! the name when there is a code), where Node prints `(node:PID)`.
//!
//! `BeforeExit` and `Exit` belong to a main script: [`crate::run`],
//! [`EventLoop::run_main`](crate::EventLoop::run_main),
//! [`run_async`](crate::run_async); a loop driven by
//! [`EventLoop::run`](crate::EventLoop::run) (libuv's `uv_run`) emits
//! neither. Listeners of `BeforeExit` may schedule work: the loop runs it
//! and emits `BeforeExit` again when it empties. After `Exit` no next tick
//! runs (those queued inside it are dropped), though its microtasks do, as
//! in Node. A panic nobody handled ends the run without either event.
//!
//! ```
//! use std::{cell::RefCell, rc::Rc};
//! use evloop::process::{self, BeforeExit, Exit};
//! let log = Rc::new(RefCell::new(Vec::new()));
//! let l = log.clone();
//! evloop::run(move || {
//!     let once = Rc::new(std::cell::Cell::new(true));
//!     let l2 = l.clone();
//!     process::on(BeforeExit, move |code| {
//!         l2.borrow_mut().push(format!("beforeExit {code}"));
//!         if once.replace(false) {
//!             let l3 = l2.clone();
//!             evloop::set_timeout(10, move || l3.borrow_mut().push("more work".into()));
//!         }
//!     });
//!     process::on(Exit, move |code| l.borrow_mut().push(format!("exit {code}")));
//! });
//! assert_eq!(*log.borrow(), ["beforeExit 0", "more work", "beforeExit 0", "exit 0"]);
//! ```

use std::cell::RefCell;

use crate::node::emitter::{Event, EventEmitter, ListenerId};
use crate::rt::context::{on_loop_drop, try_with_core, with_core};
use crate::rt::process::{ProcessHooks, install};

pub use crate::node::signal::{
    Signal, SignalError, SignalListener, SignalStream, on_signal, signals,
};
pub use crate::node::stdio::stdin::{Stdin, StdinChunks, StdinLines, stdin};
pub use crate::node::stdio::writer::{StdWriter, stderr, stdout};
pub use crate::rt::process::ProcessWarning;
pub use crate::rt::rejection::{Rejection, UnhandledRejections};

crate::events! {
    /// `'warning'`: a process warning, on a next tick after it was emitted
    /// (see [`emit_warning`]).
    pub struct Warning("warning"): ProcessWarning;
    /// `'beforeExit'`: the loop of the main script ran empty; the payload is
    /// the exit code ([`exit_code`]). Listeners may schedule more work.
    pub struct BeforeExit("beforeExit"): i32;
    /// `'exit'`: the main script ends; the payload is the exit code. No next
    /// tick runs after it.
    pub struct Exit("exit"): i32;
    /// `'unhandledRejection'`: a rejection nobody handled in time (see
    /// [`spawn_fallible`](crate::spawn_fallible)), at the check after the
    /// drain in which it failed.
    pub struct UnhandledRejection("unhandledRejection"): Rejection;
    /// `'rejectionHandled'`: a rejection already reported as unhandled was
    /// awaited after all; at the check after the drain in which it was.
    pub struct RejectionHandled("rejectionHandled"): Rejection;
}

/// One loop's process state.
struct Process {
    loop_id: u32,
    emitter: EventEmitter,
}

thread_local! {
    /// The process state of this thread's loops that have one (made on first
    /// use, dropped with the loop).
    static PROCESSES: RefCell<Vec<Process>> = const { RefCell::new(Vec::new()) };
}

/// The current loop's process state, made if needed, through `f`.
fn with_process<R>(what: &str, f: impl FnOnce(&mut Process) -> R) -> R {
    let loop_id = with_core(what, |core| core.id());
    install(ProcessHooks {
        warning: |w| {
            emit_current(Warning, w.clone());
        },
        before_exit: || {
            emit_current(BeforeExit, current_exit_code());
        },
        exit: || {
            emit_current(Exit, current_exit_code());
        },
        unhandled_rejection: |r| emit_current(UnhandledRejection, r.clone()),
        rejection_handled: |r| emit_current(RejectionHandled, r.clone()),
    });
    on_loop_drop("process", drop_process);
    PROCESSES.with(|p| {
        let mut p = p.borrow_mut();
        let index = match p.iter().position(|s| s.loop_id == loop_id) {
            Some(i) => i,
            None => {
                p.push(Process {
                    loop_id,
                    emitter: EventEmitter::new(),
                });
                p.len() - 1
            }
        };
        f(&mut p[index])
    })
}

/// The current loop's process emitter, if it has one.
fn current_emitter() -> Option<EventEmitter> {
    let loop_id = try_with_core(|core| core.id())?;
    PROCESSES
        .try_with(|p| {
            p.borrow()
                .iter()
                .find(|s| s.loop_id == loop_id)
                .map(|s| s.emitter.clone())
        })
        .ok()
        .flatten()
}

/// Emits `event` on the current loop's process emitter, if it has one
/// (no borrow held while the listeners run); whether anyone listened.
fn emit_current<E: Event>(event: E, payload: E::Payload) -> bool {
    current_emitter().is_some_and(|emitter| emitter.emit(event, payload))
}

fn current_exit_code() -> i32 {
    try_with_core(|core| core.exit_code()).unwrap_or(0)
}

/// The loop-drop hook: forgets loop `id`'s process state (its listeners
/// drop with the loop).
fn drop_process(id: u32) -> usize {
    let gone = PROCESSES
        .try_with(|p| {
            let mut p = p.borrow_mut();
            p.iter()
                .position(|s| s.loop_id == id)
                .map(|i| p.swap_remove(i))
        })
        .ok()
        .flatten();
    usize::from(gone.is_some())
}

/// The current loop's `process` emitter. Clones share listeners; every call
/// on one loop returns the same emitter.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn emitter() -> EventEmitter {
    with_process("process::emitter", |p| p.emitter.clone())
}

/// `process.on(name, listener)` on the current loop: see
/// [`EventEmitter::on`].
///
/// # Panics
/// If no event loop is running on this thread.
pub fn on<E: Event>(event: E, f: impl Fn(&E::Payload) + 'static) -> ListenerId {
    with_process("process::on", |p| p.emitter.clone()).on(event, f)
}

/// `process.once(name, listener)` on the current loop: see
/// [`EventEmitter::once`].
///
/// # Panics
/// If no event loop is running on this thread.
pub fn once<E: Event>(event: E, f: impl FnOnce(&E::Payload) + 'static) -> ListenerId {
    with_process("process::once", |p| p.emitter.clone()).once(event, f)
}

/// `process.emitWarning(warning)`: on a next tick (queued now, so it runs
/// after the ticks queued before it and before any microtask), prints the
/// warning on stderr as `(evloop:PID) Name: message` and emits [`Warning`]
/// on the current loop's process emitter. With no loop running on this
/// thread it prints at once.
///
/// ```
/// use evloop::process::{self, ProcessWarning, Warning};
/// evloop::run(|| {
///     process::on(Warning, |w| assert_eq!(w.name(), "DeprecationWarning"));
///     process::emit_warning(ProcessWarning::new("old").with_name("DeprecationWarning"));
/// });
/// ```
#[track_caller]
pub fn emit_warning(warning: impl Into<ProcessWarning>) {
    crate::rt::process::emit_warning(warning.into());
}

/// `process.exitCode` of the current loop: the payload of [`BeforeExit`]
/// and [`Exit`]; 0 unless [`set_exit_code`] changed it.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn exit_code() -> i32 {
    with_core("process::exit_code", |core| core.exit_code())
}

/// Sets `process.exitCode` of the current loop (evloop does not exit the
/// process: the code is what [`BeforeExit`] and [`Exit`] report).
///
/// # Panics
/// If no event loop is running on this thread.
pub fn set_exit_code(code: i32) {
    with_core("process::set_exit_code", |core| core.set_exit_code(code));
}

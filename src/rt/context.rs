//! The thread's current loop: the thread-local slot that the free functions
//! (`set_timeout`, `next_tick`, ...) find their loop through, the guard that
//! fills it while a loop runs or is entered, and the hooks that modules above
//! the loop register to hear of a loop's drop.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::rc::Rc;

use crate::rt::core::Core;

thread_local! {
    /// The loop running (or entered) on this thread, at most one: the core
    /// that the `Entered` guard which set this keeps alive. (A plain pointer
    /// rather than an `Rc` in a `RefCell`: every scheduling call and every
    /// await reads it, and this read is one load.)
    pub(in crate::rt) static CURRENT: Cell<Option<NonNull<Core>>> = const { Cell::new(None) };
}

/// Runs `f` with the current thread's loop, if one is running.
#[inline]
pub(crate) fn try_with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CURRENT.with(Cell::get)?;
    // SAFETY: while `CURRENT` is set, the `Entered` guard that set it is
    // alive further up this thread's stack and holds an `Rc` of this core;
    // it clears `CURRENT` before it lets go. `f` returns before that frame
    // does, and its `&Core` cannot escape `f`.
    Some(f(unsafe { core.as_ref() }))
}

/// Runs `f` with the current thread's loop, or panics naming `what`.
#[inline]
pub(crate) fn with_core<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    match CURRENT.with(Cell::get) {
        // SAFETY: as in `try_with_core`.
        Some(core) => f(unsafe { core.as_ref() }),
        None => no_loop(what),
    }
}

#[cold]
#[track_caller]
fn no_loop(what: &str) -> ! {
    panic!(
        "evloop: {what}() called with no event loop running on this thread \
         (call it from inside evloop::run, EventLoop::run_main or EventLoop::enter)"
    )
}

/// Installs a loop as the thread's current loop for as long as it lives,
/// keeping the loop's core alive meanwhile (see `CURRENT`).
pub(in crate::rt) struct Entered {
    _core: Rc<Core>,
}

impl Entered {
    #[track_caller]
    pub(in crate::rt) fn new(core: &Rc<Core>) -> Entered {
        if CURRENT.with(Cell::get).is_some() {
            panic!(
                "evloop: an event loop is already running on this thread; \
                 a loop cannot be run or entered from inside a loop callback"
            );
        }
        let core = core.clone();
        CURRENT.set(Some(NonNull::from(&*core)));
        Entered { _core: core }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        // Cleared before the `Rc` goes (see `CURRENT`).
        CURRENT.set(None);
    }
}

/// A hook that a module above the loop registers to hear of a loop's drop:
/// it gets the loop's id, drops what it holds for that loop, and returns how
/// many items it dropped (so the loop keeps clearing while anything does).
pub(crate) type DropHook = fn(u32) -> usize;

thread_local! {
    /// This thread's drop hooks, by the name each registered with. The loop
    /// never calls up into the modules built on it except through these.
    static DROP_HOOKS: RefCell<Vec<(&'static str, DropHook)>> = const { RefCell::new(Vec::new()) };
}

/// Registers `hook` (once per `name` and thread) to run whenever a loop of
/// this thread is dropped, after its own queues are cleared; e.g. the
/// worker module terminates the workers that report to that loop.
pub(crate) fn on_loop_drop(name: &'static str, hook: DropHook) {
    let _ = DROP_HOOKS.try_with(|hooks| {
        let mut hooks = hooks.borrow_mut();
        if !hooks.iter().any(|(n, _)| *n == name) {
            hooks.push((name, hook));
        }
    });
}

/// Runs this thread's drop hooks for loop `id`; how many items they dropped.
pub(in crate::rt) fn run_drop_hooks(id: u32) -> usize {
    // A copy, so that a hook may register another without a double borrow.
    let hooks = DROP_HOOKS
        .try_with(|hooks| hooks.borrow().clone())
        .unwrap_or_default();
    // Each on its own: what a hook drops may panic (see `teardown`).
    let mut dropped = 0;
    for (name, hook) in hooks {
        crate::rt::panic::run_in_teardown(&format!("the {name} module's state"), None, || {
            dropped += hook(id);
        });
    }
    dropped
}

//! Loop watchers, as libuv calls them: idle, prepare and check handles
//! (`uv_idle_t`, `uv_prepare_t`, `uv_check_t`, `src/unix/loop-watcher.c`),
//! callbacks that run once per loop iteration in their phase while started.
//!
//! - **Idle** handles run in the idle/prepare phase (`uv__run_idle`), after
//!   the pending callbacks. While one is started the poll phase does not
//!   block (timeout 0), so an idle handle spins the loop.
//! - **Prepare** handles run right after the idle handles, just before the
//!   poll (`uv__run_prepare`).
//! - **Check** handles run in the check phase, right after the poll
//!   (`uv__run_check`), before the immediates: Node runs its immediates from
//!   a check handle of its own, started when Node boots, and libuv puts a
//!   started handle at the *head* of its list (`uv__queue_insert_head`), so
//!   every handle started later runs before that one.
//!
//! libuv's rules, which evloop keeps:
//! - In each phase the started handles run in **reverse start order**: the
//!   one started last runs first; the order then stays, pass after pass.
//! - A pass runs the handles that were started when it began: one started
//!   by a callback of the pass (or stopped and started again) waits for the
//!   next iteration; one stopped or closed before its turn does not run.
//! - A started, referenced handle keeps the loop alive; a started idle
//!   handle, referenced or not, also keeps the poll from blocking. A
//!   prepare or check handle alone lets the poll block (until a timer, I/O
//!   or a post), as in libuv.
//! - `close` stops the handle; its close callback runs in the close phase,
//!   and until then the handle keeps the loop alive.
//!
//! Each callback is followed by the next-tick and microtask drain, as
//! every loop callback is. The three types share their code (this module)
//! and differ only in the list they join, as libuv's three types are one
//! macro (`UV_LOOP_WATCHER_DEFINE`): three types rather than one generic
//! type, so that a callback is handed its own type and the docs say which
//! phase each runs in.

pub(crate) mod table;

use std::fmt;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};

use crate::rt::callback::{Callback, SmallFn};
use crate::rt::context::with_core;
use crate::rt::core::Core;
use crate::rt::trace::replay::From;
use table::{Kind, State};

/// What every watcher handle holds: its loop and its slot there.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Handle {
    loop_id: u32,
    index: u32,
    generation: u32,
}

impl Handle {
    #[track_caller]
    fn new(kind: Kind) -> Handle {
        let site = Location::caller();
        with_core(kind.type_name(), |core| {
            let (index, generation) = core.watchers.with(|t| t.insert(kind, site));
            Handle {
                loop_id: core.id,
                index,
                generation,
            }
        })
    }

    /// Panics, naming `what`, unless this handle's loop is the current
    /// one: `start` and `close` take a callback that would otherwise be
    /// dropped without a word.
    #[track_caller]
    fn check_loop(self, core: &Core, what: &str) {
        if core.id != self.loop_id {
            panic!(
                "evloop: {what} on a handle of loop {}, but loop {} is running on this thread",
                self.loop_id, core.id
            );
        }
    }

    #[track_caller]
    fn start<H: Copy + 'static>(
        self,
        kind: Kind,
        what: &'static str,
        handle: H,
        mut cb: impl FnMut(H) + 'static,
    ) -> bool {
        let site = Location::caller();
        with_core(what, |core| {
            self.check_loop(core, what);
            let state = core
                .watchers
                .read(|t| t.get(self.index, self.generation).and_then(|s| s.state));
            match state {
                Some(State::Active) => false,
                Some(State::Stopped) => {
                    let f = SmallFn::repeating(move || cb(handle));
                    core.watchers.with(|t| t.start(self.index, f, site));
                    true
                }
                Some(State::Closing) | None => panic!(
                    "evloop: {what} on a closed handle (libuv's uv_{}_start on a closing \
                     handle is undefined behaviour): create a new one",
                    kind.type_name().to_lowercase()
                ),
            }
        })
    }

    #[track_caller]
    fn stop(self, what: &'static str) {
        let cb = with_core(what, |core| {
            if core.id != self.loop_id {
                return None;
            }
            core.watchers.with(|t| {
                let slot = t.get(self.index, self.generation)?;
                if slot.state != Some(State::Active) {
                    return None;
                }
                t.stop(self.index, State::Stopped)
            })
        });
        // Dropped outside the table's borrow: its destructor may schedule.
        drop(cb);
    }

    #[track_caller]
    fn close(self, what: &'static str, cb: impl FnOnce() + 'static) {
        let site = Location::caller();
        let old = with_core(what, |core| {
            self.check_loop(core, what);
            let state = core
                .watchers
                .read(|t| t.get(self.index, self.generation).and_then(|s| s.state));
            if matches!(state, Some(State::Closing) | None) {
                panic!(
                    "evloop: {what} on a handle that is already closed or closing \
                     (libuv asserts !uv_is_closing in uv_close)"
                );
            }
            let old = core.watchers.with(|t| t.stop(self.index, State::Closing));
            let (index, generation) = (self.index, self.generation);
            core.push_close(Callback::new(
                move || {
                    // libuv marks the handle closed, then calls the close
                    // callback: from here on the handle is stale.
                    with_core("close callback", |core| {
                        core.watchers.with(|t| {
                            if t.get(index, generation).is_some() {
                                t.free(index);
                            }
                        })
                    });
                    cb();
                },
                site,
            ));
            old
        });
        drop(old);
    }

    fn query<R>(self, what: &str, f: impl FnOnce(&table::Slot) -> R) -> Option<R> {
        with_core(what, |core| {
            if core.id != self.loop_id {
                return None;
            }
            core.watchers
                .read(|t| t.get(self.index, self.generation).map(f))
        })
    }

    fn set_ref(self, what: &'static str, on: bool) {
        with_core(what, |core| {
            if core.id == self.loop_id {
                core.watchers.with(|t| {
                    if t.get(self.index, self.generation).is_some() {
                        t.set_ref(self.index, on);
                    }
                });
            }
        });
    }

    fn set_name(self, what: &'static str, name: &'static str) {
        with_core(what, |core| {
            if core.id == self.loop_id {
                core.watchers.with(|t| {
                    if let Some(slot) = t.get_mut(self.index, self.generation) {
                        slot.name = Some(name);
                    }
                });
            }
        });
    }

    fn fmt(self, kind: Kind, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({}:{}:{})",
            kind.type_name(),
            self.loop_id,
            self.index,
            self.generation
        )
    }
}

/// Runs one kind's pass (`uv__run_idle`, `uv__run_prepare`,
/// `uv__run_check`): every watcher of that kind started when it begins,
/// the one started last first, each followed by the drain. Returns how
/// many callbacks ran.
pub(crate) fn run_pass<const OBSERVED: bool>(core: &Core, kind: Kind) -> usize {
    core.watchers.with(|t| t.begin_pass(kind));
    let mut ran = 0;
    while let Some((index, generation, cb, site)) = core.watchers.with(|t| t.next_in_pass()) {
        ran += 1;
        if OBSERVED && let Some(o) = &core.observer {
            o.from(From::Watcher(kind));
        }
        // As an interval's: the callback is lent out for the call and put
        // back right after it (before the drain), unless the callback
        // stopped, closed or restarted its handle.
        let result = core.try_invoke::<OBSERVED>(site, move || {
            let mut cb = cb;
            let ran = catch_unwind(AssertUnwindSafe(|| cb.call_mut()));
            let leftover = core.watchers.with(|t| t.end_call(index, generation, cb));
            drop(leftover);
            if let Err(payload) = ran {
                resume_unwind(payload);
            }
        });
        if let Err(payload) = result {
            // Unhandled panic: the handle is stopped (as an interval dies
            // with the run), and the watchers the pass did not reach wait
            // in their list for the next run.
            let cb = core.watchers.with(|t| {
                t.abandon_pass();
                match t.get(index, generation).map(|s| s.state) {
                    Some(Some(State::Active)) => t.stop(index, State::Stopped),
                    _ => None,
                }
            });
            drop(cb);
            resume_unwind(payload);
        }
    }
    ran
}

macro_rules! watcher {
    (
        $(#[$doc:meta])*
        $name:ident, $kind:expr, $uv:literal
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        #[must_use = "a watcher lives until closed: keep the handle to stop or close it"]
        pub struct $name(Handle);

        // No `Default`: a new handle registers in the current loop (and
        // panics without one), which a default value should not do.
        #[allow(clippy::new_without_default)]
        impl $name {
            #[doc = concat!("A new stopped handle on the current loop (`uv_", $uv, "_init`), referenced.")]
            /// It costs the loop nothing until started; its slot is freed
            /// when it is closed (or with the loop).
            ///
            /// # Panics
            /// If no event loop is running on this thread.
            #[track_caller]
            pub fn new() -> $name {
                $name(Handle::new($kind))
            }

            #[doc = concat!("Starts the handle (`uv_", $uv, "_start`): `cb` runs once per loop iteration in its phase, given the handle, until it is stopped or closed.")]
            /// The handle joins the head of its phase's list, so it runs
            /// before the handles of its kind started earlier; started from
            /// a callback of its own phase, it first runs in the next
            /// iteration.
            ///
            /// Returns `true` if the handle started; `false` if it was
            /// already started, in which case `cb` is dropped and the first
            /// callback stays (libuv's rule: starting an active handle does
            /// nothing).
            ///
            /// # Panics
            /// If no event loop is running on this thread; if the handle
            /// belongs to another loop; if it was closed (libuv leaves that
            /// undefined).
            #[track_caller]
            pub fn start(self, cb: impl FnMut($name) + 'static) -> bool {
                self.0.start($kind, concat!(stringify!($name), "::start"), self, cb)
            }

            #[doc = concat!("Stops the handle (`uv_", $uv, "_stop`) and drops its callback: it no longer runs, and no longer keeps the loop alive.")]
            /// A no-op if it is not started (stopped, closed, or of
            /// another loop). Stopped before its turn in the current pass,
            /// it does not run in it.
            ///
            /// # Panics
            /// If no event loop is running on this thread.
            #[track_caller]
            pub fn stop(self) {
                self.0.stop(concat!(stringify!($name), "::stop"))
            }

            /// Closes the handle (`uv_close`): stops it, then runs `cb` in
            /// the close phase of this iteration (the loop stays alive for
            /// it), after which the handle is stale: `is_closing` stays
            /// `true`, the other queries answer `false`, `start` panics.
            ///
            /// # Panics
            /// If no event loop is running on this thread; if the handle
            /// belongs to another loop; if it is already closing or closed
            /// (libuv asserts as much).
            #[track_caller]
            pub fn close(self, cb: impl FnOnce() + 'static) {
                self.0.close(concat!(stringify!($name), "::close"), cb)
            }

            /// Makes a started handle keep the loop alive again
            /// (`uv_ref`); a no-op if it already does, or is stale.
            ///
            /// # Panics
            /// If no event loop is running on this thread.
            pub fn ref_(self) {
                self.0.set_ref(concat!(stringify!($name), "::ref"), true)
            }

            /// Lets the loop exit even while the handle is started
            /// (`uv_unref`); it still runs while the loop goes on for other
            /// reasons. Remembered across stop and start.
            ///
            /// # Panics
            /// If no event loop is running on this thread.
            pub fn unref(self) {
                self.0.set_ref(concat!(stringify!($name), "::unref"), false)
            }

            /// Whether the handle is referenced (`uv_has_ref`), started or
            /// not; `false` once its close callback ran, or for a handle of
            /// another loop.
            ///
            /// # Panics
            /// If no event loop is running on this thread.
            pub fn has_ref(self) -> bool {
                self.0
                    .query(concat!(stringify!($name), "::has_ref"), |s| s.referenced)
                    .unwrap_or(false)
            }

            /// Whether the handle is started (`uv_is_active`).
            ///
            /// # Panics
            /// If no event loop is running on this thread.
            pub fn is_active(self) -> bool {
                self.0
                    .query(concat!(stringify!($name), "::is_active"), |s| {
                        s.state == Some(State::Active)
                    })
                    .unwrap_or(false)
            }

            /// Whether [`close`](Self::close) was called (`uv_is_closing`):
            /// `true` from then on, also once the close callback ran.
            ///
            /// # Panics
            /// If no event loop is running on this thread.
            pub fn is_closing(self) -> bool {
                let what = concat!(stringify!($name), "::is_closing");
                with_core(what, |core| core.id == self.0.loop_id)
                    && self.0
                        .query(what, |s| s.state == Some(State::Closing))
                        .unwrap_or(true)
            }

            /// Names the handle in [`walk`](crate::walk). A no-op for a
            /// stale handle.
            ///
            /// # Panics
            /// If no event loop is running on this thread.
            pub fn set_name(self, name: &'static str) {
                self.0.set_name(concat!(stringify!($name), "::set_name"), name)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt($kind, f)
            }
        }
    };
}

watcher! {
    /// An idle handle (libuv's `uv_idle_t`): its callback runs once per
    /// loop iteration in the idle/prepare phase, after the pending
    /// callbacks and before the prepare handles, while it is started.
    ///
    /// While an idle handle is started, referenced or not, the poll phase
    /// does not block: the loop turns as fast as it can, polling for I/O
    /// without waiting (libuv's rule; Node keeps one started while
    /// immediates wait, for the same reason). A referenced one keeps the
    /// loop alive. Handles of the kind started later run first (see the
    /// [module rules](crate::Idle#rules)).
    ///
    /// # Rules
    /// The handle is `Copy`; every copy names the same handle, and the
    /// callback gets one. Stopping it drops its callback; closing it frees
    /// its slot once the close callback ran, after which it is stale.
    /// Misuse follows libuv: starting a started handle or stopping a
    /// stopped one does nothing; closing twice, or starting a closed
    /// handle, panics (libuv asserts or leaves it undefined).
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let out = Rc::new(RefCell::new(Vec::new()));
    /// let o = out.clone();
    /// evloop::run(move || {
    ///     let idle = evloop::Idle::new();
    ///     let mut n = 0;
    ///     idle.start(move |me| {
    ///         n += 1;
    ///         o.borrow_mut().push(n);
    ///         if n == 3 {
    ///             me.close(|| {});
    ///         }
    ///     });
    /// });
    /// assert_eq!(*out.borrow(), [1, 2, 3]);
    /// ```
    Idle, Kind::Idle, "idle"
}

watcher! {
    /// A prepare handle (libuv's `uv_prepare_t`): its callback runs once
    /// per loop iteration right before the poll phase, after the idle
    /// handles, while it is started.
    ///
    /// A referenced, started prepare handle keeps the loop alive but does
    /// not stop the poll from blocking: with nothing else to do the loop
    /// waits for a timer, I/O or a post, and runs the handle again after
    /// it. Handles of the kind started later run first; misuse is as for
    /// [`Idle`](crate::Idle#rules).
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let out = Rc::new(RefCell::new(Vec::new()));
    /// let o = out.clone();
    /// evloop::run(move || {
    ///     let prepare = evloop::Prepare::new();
    ///     let p = o.clone();
    ///     prepare.start(move |_| p.borrow_mut().push("prepare"));
    ///     evloop::set_timeout(5, move || {
    ///         o.borrow_mut().push("timer");
    ///         prepare.close(|| {});
    ///     });
    /// });
    /// // Before each poll: one before waiting for the timer, then the timer.
    /// assert_eq!(*out.borrow(), ["prepare", "timer"]);
    /// ```
    Prepare, Kind::Prepare, "prepare"
}

watcher! {
    /// A check handle (libuv's `uv_check_t`): its callback runs once per
    /// loop iteration in the check phase, right after the poll, while it
    /// is started.
    ///
    /// Check handles run **before the immediates** of the same check
    /// phase: Node runs immediates from its own check handle, started when
    /// Node boots, and libuv runs the handle started last first. A
    /// referenced, started check handle keeps the loop alive but does not
    /// stop the poll from blocking. Misuse is as for
    /// [`Idle`](crate::Idle#rules).
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let out = Rc::new(RefCell::new(Vec::new()));
    /// let o = out.clone();
    /// evloop::run(move || {
    ///     let i = o.clone();
    ///     evloop::set_immediate(move || i.borrow_mut().push("immediate"));
    ///     let check = evloop::Check::new();
    ///     check.start(move |me| {
    ///         o.borrow_mut().push("check");
    ///         me.close(|| {});
    ///     });
    /// });
    /// assert_eq!(*out.borrow(), ["check", "immediate"]);
    /// ```
    Check, Kind::Check, "check"
}

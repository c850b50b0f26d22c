//! Panics in loop callbacks: what a panic says (the one place that reads a
//! panic payload's message) and the policy for one that escapes a callback,
//! Node's uncaught exception: without a handler the run stops and the panic
//! unwinds out of it; with one ([`set_uncaught_panic_handler`](crate::set_uncaught_panic_handler),
//! [`Builder::on_uncaught_panic`](crate::Builder::on_uncaught_panic)) the
//! handler gets it and the loop goes on. The drain (`drain`) catches the
//! panic and asks [`uncaught`] which. Also: panics of destructors, when a
//! loop is torn down ([`drop_in_teardown`]) and when several handlers are
//! dropped at once ([`DropEach`]).

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};

use crate::rt::callback::{Payload, Site};

/// The message of a panic payload when it is a string, as for
/// `panic!("literal")` (`&str`) or `panic!("{x}")` (`String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// A panic that escaped a loop callback, handed to the handler installed with
/// [`set_uncaught_panic_handler`](crate::set_uncaught_panic_handler) or
/// [`Builder::on_uncaught_panic`](crate::Builder::on_uncaught_panic).
pub struct UncaughtPanic {
    payload: Payload,
    site: Site,
    rejection: bool,
}

impl UncaughtPanic {
    /// The panic message, if the payload is a string (as for `panic!("...")`).
    pub fn message(&self) -> Option<&str> {
        panic_message(&*self.payload)
    }

    /// Where the callback that panicked was scheduled (for an unhandled
    /// rejection, where the failed task was spawned).
    pub fn site(&self) -> &'static Location<'static> {
        self.site
    }

    /// Node's `origin` argument of `'uncaughtException'`:
    /// `"unhandledRejection"` for an unhandled rejection the loop raised
    /// (see [`spawn_fallible`](crate::spawn_fallible)), else
    /// `"uncaughtException"`.
    pub fn origin(&self) -> &'static str {
        if self.rejection {
            "unhandledRejection"
        } else {
            "uncaughtException"
        }
    }

    /// The raw panic payload, e.g. to `resume_unwind` it later.
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }
}

impl fmt::Debug for UncaughtPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UncaughtPanic")
            .field("message", &self.message())
            .field("site", &crate::rt::callback::describe_site(self.site))
            .field("origin", &self.origin())
            .finish()
    }
}

pub(in crate::rt) type PanicHandler = Box<dyn FnMut(UncaughtPanic)>;

/// The panic policy, for the loop whose handler slot is `handler`: with a
/// handler, report to it and go on (`Ok`); without, log and hand the payload
/// back (`Err`) so that it unwinds out of the run function.
pub(in crate::rt) fn uncaught(
    handler: &RefCell<Option<PanicHandler>>,
    payload: Payload,
    site: Site,
    rejection: bool,
) -> Result<(), Payload> {
    let taken = handler.borrow_mut().take();
    let Some(mut taken) = taken else {
        log::error!(
            target: "evloop",
            "uncaught panic in a callback scheduled at {}; the run stops",
            crate::rt::callback::describe_site(site)
        );
        return Err(payload);
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        taken(UncaughtPanic {
            payload,
            site,
            rejection,
        })
    }));
    // Put it back unless the handler installed a new one.
    let mut slot = handler.borrow_mut();
    if slot.is_none() {
        *slot = Some(taken);
    }
    drop(slot);
    result
}

/// Drops `value`, something the loop held for the program (a queued
/// callback, a task's future, a handler), while the loop is torn down: a
/// panic of its destructor is caught and logged (error, target `evloop`,
/// naming `what` and where it was scheduled), and the teardown goes on with
/// the rest. Uncaught, it would escape `drop(EventLoop)`, and abort the
/// process when a second destructor panicked while it unwound, or when the
/// loop was dropped during another panic (one unwinding out of
/// `evloop::run`). The uncaught-panic handler is not called: the loop is
/// going away, and the handler may be among what is being dropped.
pub(in crate::rt) fn drop_in_teardown<T>(value: T, what: &str, site: Option<Site>) {
    run_in_teardown(what, site, || drop(value))
}

/// [`drop_in_teardown`] for teardown steps that drop several things of the
/// program's (a source's handlers, a drop hook's state).
pub(in crate::rt) fn run_in_teardown(what: &str, site: Option<Site>, f: impl FnOnce()) {
    catch_and_log(f, |message| {
        log::error!(
            target: "evloop",
            "a destructor panicked while the event loop was dropped ({what}{}): {message}; \
             the rest is still dropped",
            scheduled_at(site)
        );
    });
}

/// Runs `f`, which drops something of the program's, from code that runs
/// only while a panic unwinds (a guard's `Drop`): a panic there would abort
/// the process, so it is caught and logged (error, target `evloop`) and the
/// first panic goes on unwinding.
pub(in crate::rt) fn drop_while_unwinding(what: &str, site: Option<Site>, f: impl FnOnce()) {
    catch_and_log(f, |message| {
        log::error!(
            target: "evloop",
            "a destructor panicked while another panic unwound ({what}{}): {message}; \
             logged instead of aborting the process",
            scheduled_at(site)
        );
    });
}

/// " scheduled at file:line", or nothing.
fn scheduled_at(site: Option<Site>) -> String {
    site.map_or_else(String::new, |s| {
        format!(" scheduled at {}", crate::rt::callback::describe_site(s))
    })
}

/// Runs `f`; if it panics, reports the panic's message and drops the payload.
fn catch_and_log(f: impl FnOnce(), report: impl FnOnce(&str)) {
    let Err(payload) = catch_unwind(AssertUnwindSafe(f)) else {
        return;
    };
    report(panic_message(&*payload).unwrap_or("a panic with a non-string payload"));
    forget_payload(payload);
}

/// Drops a caught panic's payload; a payload whose own destructor panics is
/// leaked rather than let that panic out.
fn forget_payload(payload: Payload) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
        std::mem::forget(again);
    }
}

/// Drops several things of the program's one by one (a socket's handlers),
/// so that destructors that panic cannot abort the process: dropped
/// together (a tuple, a `Vec`), a second panic while the first unwinds
/// would. Each is dropped even if one before it panicked; [`finish`]
/// then resumes the first panic (as a plain `drop` would have raised it),
/// and logs the later ones (error, target `evloop`).
///
/// [`finish`]: DropEach::finish
#[must_use = "finish() raises the first panic"]
pub(crate) struct DropEach {
    what: &'static str,
    first: Option<Payload>,
}

impl DropEach {
    pub(crate) fn new(what: &'static str) -> DropEach {
        DropEach { what, first: None }
    }

    /// Drops `value`, keeping a panic of its destructor for `finish`.
    pub(crate) fn drop_one<T>(&mut self, value: T) {
        self.run(|| drop(value));
    }

    /// Runs `f` (which drops something), keeping its panic for `finish`.
    pub(crate) fn run(&mut self, f: impl FnOnce()) {
        let Err(payload) = catch_unwind(AssertUnwindSafe(f)) else {
            return;
        };
        if self.first.is_none() {
            self.first = Some(payload);
            return;
        }
        log::error!(
            target: "evloop",
            "another destructor panicked while dropping {}: {}",
            self.what,
            panic_message(&*payload).unwrap_or("a panic with a non-string payload")
        );
        forget_payload(payload);
    }

    /// Resumes the first panic, if any destructor panicked.
    pub(crate) fn finish(self) {
        if let Some(payload) = self.first {
            std::panic::resume_unwind(payload);
        }
    }
}

//! Panics in loop callbacks: what a panic says (the one place that reads a
//! panic payload's message) and the policy for one that escapes a callback,
//! Node's uncaught exception: without a handler the run stops and the panic
//! unwinds out of it; with one ([`set_uncaught_panic_handler`](crate::set_uncaught_panic_handler),
//! [`Builder::on_uncaught_panic`](crate::Builder::on_uncaught_panic)) the
//! handler gets it and the loop goes on. The drain (`drain`) catches the
//! panic and asks [`uncaught`] which.

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

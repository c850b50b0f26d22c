//! Panics in loop callbacks: what a panic says (the one place that reads a
//! panic payload's message) and the policy for one that escapes a callback,
//! Node's uncaught exception: without a handler the run stops and the panic
//! unwinds out of it; with one ([`set_uncaught_panic_handler`],
//! [`Builder::on_uncaught_panic`](crate::Builder::on_uncaught_panic)) the
//! handler gets it and the loop goes on. The drain (`drain`) catches the
//! panic and asks `Core::uncaught` which.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};

use crate::rt::callback::{Payload, Site};
use crate::rt::context::with_core;
use crate::rt::core::Core;

/// The message of a panic payload when it is a string, as for
/// `panic!("literal")` (`&str`) or `panic!("{x}")` (`String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// A panic that escaped a loop callback, handed to the handler installed with
/// [`set_uncaught_panic_handler`] or
/// [`Builder::on_uncaught_panic`](crate::Builder::on_uncaught_panic).
pub struct UncaughtPanic {
    payload: Payload,
    site: Site,
}

impl UncaughtPanic {
    /// The panic message, if the payload is a string (as for `panic!("...")`).
    pub fn message(&self) -> Option<&str> {
        panic_message(&*self.payload)
    }

    /// Where the callback that panicked was scheduled.
    pub fn site(&self) -> &'static Location<'static> {
        self.site
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
            .finish()
    }
}

pub(in crate::rt) type PanicHandler = Box<dyn FnMut(UncaughtPanic)>;

impl Core {
    /// The panic policy: with a handler, report and go on; without, hand the
    /// payload back so it unwinds out of the run function.
    pub(in crate::rt) fn uncaught(&self, payload: Payload, site: Site) -> Result<(), Payload> {
        let handler = self.panic_handler.borrow_mut().take();
        let Some(mut handler) = handler else {
            log::error!(
                target: "evloop",
                "uncaught panic in a callback scheduled at {}; the run stops",
                crate::rt::callback::describe_site(site)
            );
            return Err(payload);
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            handler(UncaughtPanic { payload, site })
        }));
        // Put it back unless the handler installed a new one.
        let mut slot = self.panic_handler.borrow_mut();
        if slot.is_none() {
            *slot = Some(handler);
        }
        drop(slot);
        result
    }
}

/// Installs (or with `None`, removes) the current loop's handler for panics
/// escaping callbacks, like `process.on('uncaughtException')`: the handler
/// runs right away with the panic, then the loop goes on with the next
/// callback. A panic inside the handler itself unwinds out of the run.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn set_uncaught_panic_handler(handler: Option<Box<dyn FnMut(UncaughtPanic)>>) {
    let old = with_core("set_uncaught_panic_handler", |core| {
        std::mem::replace(&mut *core.panic_handler.borrow_mut(), handler)
    });
    drop(old);
}

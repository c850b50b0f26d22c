//! Handler slots: the one handler per event of a [`Socket`] or [`Server`]
//! (set with `on_*`), and how a slot's handler is called: lent out while it
//! runs, so that it may replace itself.
//!
//! [`Socket`]: super::Socket
//! [`Server`]: super::Server

use std::cell::RefCell;

/// The slot of one event's handler, called with `A`; `None` while unset.
pub(in crate::node) type Handler<A> = RefCell<Option<Box<dyn FnMut(A)>>>;

/// Calls the handler in `slot` with `arg`, if there is one (see [`Lent`]).
pub(in crate::node) fn call<A>(slot: &Handler<A>, arg: A) {
    if let Some(mut lent) = Lent::take(slot) {
        lent.handler()(arg);
    }
}

/// A handler taken out of its slot while it runs, so it may replace itself;
/// it goes back unless it was replaced, also when it panics. (With an
/// uncaught-panic handler the loop goes on, and the socket or server must
/// keep its handler, as a Node listener stays registered after a throw.)
pub(in crate::node) struct Lent<'a, H>(Option<H>, &'a RefCell<Option<H>>);

impl<'a, H> Lent<'a, H> {
    /// Takes the handler out of `slot`: `None` if it holds none (unset, or
    /// already lent to a call further up the stack).
    pub(in crate::node) fn take(slot: &'a RefCell<Option<H>>) -> Option<Lent<'a, H>> {
        let handler = slot.borrow_mut().take()?;
        Some(Lent(Some(handler), slot))
    }

    /// The handler, to call.
    pub(in crate::node) fn handler(&mut self) -> &mut H {
        self.0.as_mut().expect("lent")
    }
}

impl<H> Drop for Lent<'_, H> {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.1.try_borrow_mut()
            && slot.is_none()
        {
            *slot = self.0.take();
        }
    }
}

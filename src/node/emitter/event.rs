//! [`Event`], what names an event and fixes its payload type; the
//! [`events!`](crate::events!) macro that declares event marker types; and
//! Node's two meta-events, [`NewListener`] and [`RemoveListener`].

use std::fmt;

use super::listener::ListenerId;

/// An event: a name, as Node spells it, and the type of its payload.
///
/// Implement it on a unit struct (a *marker*), most easily with the
/// [`events!`](crate::events!) macro, and pass the marker to
/// [`EventEmitter::on`], [`EventEmitter::emit`] and friends. Several
/// arguments are a tuple payload; no argument is `()`.
///
/// [`EventEmitter::on`]: crate::EventEmitter::on
/// [`EventEmitter::emit`]: crate::EventEmitter::emit
pub trait Event: 'static {
    /// What `emit` hands to every listener, by reference. `Debug` so that an
    /// unhandled `"error"` event can say what it carried.
    type Payload: fmt::Debug + 'static;
    /// The event's name, e.g. `"request"`. `"error"` has Node's special
    /// meaning (see [`EventEmitter::emit`]); `"newListener"` and
    /// `"removeListener"` belong to [`NewListener`] and [`RemoveListener`].
    ///
    /// [`EventEmitter::emit`]: crate::EventEmitter::emit
    const NAME: &'static str;
}

/// Declares event marker types: unit structs implementing [`Event`].
///
/// Each line is `VISIBILITY struct NAME("event name"): PAYLOAD;`, with
/// optional attributes and doc comments before it. The structs derive
/// `Clone, Copy, Debug, Default, PartialEq, Eq, Hash`.
///
/// ```
/// evloop::events! {
///     /// `'data'`: a chunk of bytes.
///     pub struct Data("data"): Vec<u8>;
///     /// `'end'`: no more data.
///     pub struct End("end"): ();
///     /// `'error'`: what went wrong.
///     pub struct Error("error"): std::io::Error;
/// }
/// use evloop::Event;
/// assert_eq!((Data::NAME, End::NAME, Error::NAME), ("data", "end", "error"));
/// ```
#[macro_export]
macro_rules! events {
    ($($(#[$meta:meta])* $vis:vis struct $marker:ident ($name:literal): $payload:ty;)*) => {
        $(
            $(#[$meta])*
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
            $vis struct $marker;

            impl $crate::Event for $marker {
                type Payload = $payload;
                const NAME: &'static str = $name;
            }
        )*
    };
}

/// Node's `'newListener'` meta-event: fires *before* a listener is added,
/// with the event's name and the listener's id, if the emitter has
/// `'newListener'` listeners at that moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NewListener;

impl Event for NewListener {
    /// `(event name, listener)`, as Node's `(eventName, listener)`.
    type Payload = (&'static str, ListenerId);
    const NAME: &'static str = "newListener";
}

/// Node's `'removeListener'` meta-event: fires *after* a listener is removed
/// (by [`EventEmitter::off`], a `once` listener firing, or
/// [`EventEmitter::remove_all_listeners`]), with the event's name and the
/// listener's id, if the emitter still has `'removeListener'` listeners.
///
/// [`EventEmitter::off`]: crate::EventEmitter::off
/// [`EventEmitter::remove_all_listeners`]: crate::EventEmitter::remove_all_listeners
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RemoveListener;

impl Event for RemoveListener {
    /// `(event name, listener)`, as Node's `(eventName, listener)`.
    type Payload = (&'static str, ListenerId);
    const NAME: &'static str = "removeListener";
}

/// The name of [`ErrorMonitor`]'s listeners, as Node's `errorMonitor`
/// symbol prints: no string event collides with it.
pub(super) const ERROR_MONITOR: &str = "Symbol(events.errorMonitor)";

/// Node's `events.errorMonitor`: `emitter.on(ErrorMonitor(Failed), f)`
/// registers `f` to see every emit of the error event `Failed` *before*
/// the regular `'error'` listeners, without counting as one: with no
/// `'error'` listener, [`EventEmitter::emit`] still panics, after the
/// monitors ran. The payload type is the error event's.
///
/// Its listeners are stored under the name `"Symbol(events.errorMonitor)"`
/// (how Node prints the symbol), which
/// [`event_names`](crate::EventEmitter::event_names) lists last, as
/// JavaScript lists a symbol key, and which `listener_count` takes.
///
/// ```
/// use std::panic::{AssertUnwindSafe, catch_unwind};
/// use std::{cell::RefCell, rc::Rc};
/// use evloop::{ErrorMonitor, Event};
/// evloop::events! { struct Failed("error"): u32; }
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let e = evloop::EventEmitter::new();
/// let s = seen.clone();
/// e.on(ErrorMonitor(Failed), move |code| s.borrow_mut().push(*code));
/// assert_eq!(e.listener_count(Failed::NAME), 0);
/// assert!(catch_unwind(AssertUnwindSafe(|| e.emit(Failed, 1))).is_err());
/// e.on(Failed, |_| {});
/// assert!(e.emit(Failed, 2));
/// assert_eq!(*seen.borrow(), [1, 2]); // the monitor saw both
/// ```
///
/// [`EventEmitter::emit`]: crate::EventEmitter::emit
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ErrorMonitor<E>(pub E);

impl<E: Event> Event for ErrorMonitor<E> {
    type Payload = E::Payload;
    const NAME: &'static str = ERROR_MONITOR;
}

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

//! `EventEmitter`: Node's `node:events` on the loop's thread, with typed
//! events.
//!
//! # Design: one marker type per event
//!
//! A Node emitter carries several events, each with its own arguments
//! (`'request'` gives `(req, res)`, `'close'` gives nothing, `'error'` gives
//! an error). Here each event is a small marker type implementing [`Event`],
//! which names the event (the string Node uses) and fixes its payload type;
//! the [`events!`](crate::events!) macro declares them in one line each:
//!
//! ```
//! use evloop::{Event, EventEmitter};
//! evloop::events! {
//!     /// `'request'`: the request path.
//!     pub struct Request("request"): String;
//!     /// `'close'`: no payload.
//!     pub struct Close("close"): ();
//! }
//! let server = EventEmitter::new();
//! server.on(Request, |path| println!("GET {path}")); // `path: &String`
//! server.emit(Request, "/index.html".to_string());
//! assert_eq!(server.listener_count(Close::NAME), 0);
//! ```
//!
//! A port reads like the JavaScript (`server.on('request', (path) => ...)`
//! becomes `server.on(Request, |path| ...)`), yet the compiler checks what
//! Node cannot: a misspelt event name is an unknown type, and a listener or
//! an `emit` with the wrong payload type does not compile:
//!
//! ```compile_fail,E0308
//! # use evloop::EventEmitter;
//! # evloop::events! { struct Request("request"): String; }
//! let server = EventEmitter::new();
//! server.emit(Request, 42); // error: expected `String`, found integer
//! ```
//!
//! ```compile_fail,E0631
//! # use evloop::EventEmitter;
//! # evloop::events! { struct Request("request"): String; }
//! let server = EventEmitter::new();
//! server.on(Request, |n: &u32| println!("{n}")); // error: wrong payload type
//! ```
//!
//! The alternatives were weaker: one payload type per emitter
//! (`EventEmitter<T>` keyed by `&str`) forces every event of a Node class into
//! one enum and leaves names unchecked; an emitter generic over an event enum
//! makes every listener `match` on variants it did not ask for. The emitter
//! itself is not generic, like Node's: any emitter takes any event, and
//! listeners are stored type-erased per event name and recovered by the
//! event's type.
//!
//! Node identifies an event by its name, and so does this emitter:
//! [`event_names`](EventEmitter::event_names),
//! [`listener_count`](EventEmitter::listener_count) and
//! [`remove_all_listeners`](EventEmitter::remove_all_listeners) take and give
//! names (`Request::NAME`). Two marker types with the same name and payload
//! type are the same event; using one name with two payload types on one
//! emitter is a bug that only shows at run time, and panics (see
//! [`EventEmitter::on`]).
//!
//! # Semantics (Node v20's `lib/events.js`)
//! - [`emit`](EventEmitter::emit) calls the listeners synchronously, in
//!   order, on a snapshot of the list: a listener added or removed during an
//!   emit only affects later emits. A listener may emit (the same event too),
//!   add and remove listeners: the emitter holds no borrow while a listener
//!   runs.
//! - [`once`](EventEmitter::once) listeners are removed (and
//!   [`RemoveListener`] fires) *before* they run.
//! - [`off`](EventEmitter::off) removes the most recently added registration
//!   of a listener; a listener's identity is its [`ListenerId`], returned by
//!   every registration, and shared by all registrations of one [`Listener`].
//! - [`NewListener`] fires before a listener is added, [`RemoveListener`]
//!   after one is removed; `remove_all_listeners` reports removals last
//!   first.
//! - An event named `"error"` emitted with no listener for it panics (Node
//!   throws); see [`emit`](EventEmitter::emit). A panic rather than a
//!   `Result`: the failure cannot be missed, `emit` of every other event
//!   keeps returning a plain `bool` (a `#[must_use]` `Result` there would
//!   be `let _ =`'d everywhere), and inside a loop callback the panic takes
//!   the crate's uncaught-panic path, as Node's throw reaches
//!   `uncaughtException`; `catch_unwind` is the `try/catch`.
//! - The 11th listener for one name logs a `MaxListenersExceededWarning`;
//!   see [`set_max_listeners`](EventEmitter::set_max_listeners).
//! - [`once_event`] is `events.once`: a future of the next payload that
//!   resumes after as many microtask hops as `await events.once(...)`.
//!
//! # Differences from Node
//! - A listener has no `this`: capture a clone of the emitter (or a
//!   [`WeakEventEmitter`]). A listener that holds a strong clone of its own
//!   emitter forms a reference cycle, freed when the listener is removed.
//! - A listener takes `&Payload` and is `Fn`, so that it can be re-entered
//!   by a nested emit; use `Cell`/`RefCell` for its state. `once` accepts
//!   an `FnOnce`.
//! - The unhandled-error panic formats the payload with `Debug`, where Node
//!   rethrows an `Error` as is and wraps other values with `util.inspect`.
//! - [`once_event`] does not reject on `'error'` (the error event's payload
//!   type is not known to it), so it adds no `'error'` listener, and takes
//!   no `AbortSignal`.
//! - The emitter itself needs no running loop (only [`once_event`] does).
//! - A listener's return value is `()`: there is no `captureRejections`.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::futures::promise::{Deferred, Resolver, deferred};
use crate::rt::context::with_core;
use crate::rt::queue::queue_microtask;

/// The default limit of listeners per event name before the leak warning,
/// Node's `EventEmitter.defaultMaxListeners`.
pub const DEFAULT_MAX_LISTENERS: usize = 10;

/// The `log` target of the `MaxListenersExceededWarning`.
const LOG_TARGET: &str = "evloop::emitter";

/// The name that makes [`EventEmitter::emit`] panic when nobody listens.
const ERROR: &str = "error";

/// An event: a name, as Node spells it, and the type of its payload.
///
/// Implement it on a unit struct (a *marker*), most easily with the
/// [`events!`](crate::events!) macro, and pass the marker to
/// [`EventEmitter::on`], [`EventEmitter::emit`] and friends. Several
/// arguments are a tuple payload; no argument is `()`.
pub trait Event: 'static {
    /// What `emit` hands to every listener, by reference. `Debug` so that an
    /// unhandled `"error"` event can say what it carried.
    type Payload: fmt::Debug + 'static;
    /// The event's name, e.g. `"request"`. `"error"` has Node's special
    /// meaning (see [`EventEmitter::emit`]); `"newListener"` and
    /// `"removeListener"` belong to [`NewListener`] and [`RemoveListener`].
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RemoveListener;

impl Event for RemoveListener {
    /// `(event name, listener)`, as Node's `(eventName, listener)`.
    type Payload = (&'static str, ListenerId);
    const NAME: &'static str = "removeListener";
}

/// A listener's identity, like a JavaScript function object's: returned by
/// every registration and accepted by [`EventEmitter::off`]. Unique within
/// the process; all registrations of one [`Listener`] share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(u64);

impl ListenerId {
    fn next() -> ListenerId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ListenerId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A listener function with an identity, for registering the *same* listener
/// more than once, as Node code does with a named function
/// (`e.on('x', f); e.on('x', f)`): both registrations share one
/// [`ListenerId`], and [`EventEmitter::off`] removes the most recent one.
/// Cloning is cheap and keeps the identity.
///
/// ```
/// use evloop::{EventEmitter, Listener};
/// evloop::events! { struct Ping("ping"): (); }
/// let e = EventEmitter::new();
/// let f = Listener::new(|_: &()| println!("pong"));
/// e.on_listener(Ping, &f);
/// e.on_listener(Ping, &f);
/// assert!(e.off(Ping, f.id()));
/// assert_eq!(e.listener_count("ping"), 1);
/// ```
pub struct Listener<P: 'static> {
    id: ListenerId,
    f: Rc<dyn Fn(&P)>,
}

impl<P: 'static> Listener<P> {
    /// Wraps `f` as a listener with a fresh identity.
    pub fn new(f: impl Fn(&P) + 'static) -> Listener<P> {
        Listener {
            id: ListenerId::next(),
            f: Rc::new(f),
        }
    }

    /// This listener's identity, to pass to [`EventEmitter::off`].
    pub fn id(&self) -> ListenerId {
        self.id
    }
}

impl<P: 'static> Clone for Listener<P> {
    fn clone(&self) -> Self {
        Listener {
            id: self.id,
            f: self.f.clone(),
        }
    }
}

impl<P: 'static> fmt::Debug for Listener<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Listener").field(&self.id).finish()
    }
}

/// One registration. Node wraps a once-listener in a function of its own;
/// here the entry carries the flag, and the `Rc` is the wrapper's identity.
struct Entry {
    id: ListenerId,
    once: bool,
    /// A once-entry that has started: a snapshot still holding it skips it.
    fired: Cell<bool>,
    /// `Rc<dyn Fn(&P)>` for the slot's payload type `P`.
    f: Box<dyn Any>,
}

/// The listeners of one event name (Node's `_events[name]`). Exists only
/// while it has listeners, so its position in `Inner::slots` is the order
/// in which the name's key was (re)created.
struct Slot {
    name: &'static str,
    payload: TypeId,
    payload_name: &'static str,
    listeners: Vec<Rc<Entry>>,
    /// The leak warning was logged. Node keeps this flag on its listener
    /// array, which it replaces by a lone function when one listener is left,
    /// so the flag is cleared then.
    warned: bool,
}

struct Inner {
    slots: Vec<Slot>,
    max_listeners: usize,
}

impl Inner {
    fn position(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name == name)
    }

    fn slot(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.name == name)
    }

    fn count(&self, name: &str) -> usize {
        self.slot(name).map_or(0, |s| s.listeners.len())
    }
}

/// Panics if `name` already has listeners taking another payload type.
#[track_caller]
fn check_payload<P: 'static>(slot: Option<&Slot>) {
    if let Some(slot) = slot
        && slot.payload != TypeId::of::<P>()
    {
        panic!(
            "evloop::EventEmitter: event {:?} has listeners taking `{}`, \
             but it was used with payload `{}` (two event types share this name)",
            slot.name,
            slot.payload_name,
            std::any::type_name::<P>()
        );
    }
}

/// Node's `EventEmitter`, for one thread: register listeners for typed
/// [`Event`]s and [`emit`](EventEmitter::emit) them. The design and Node's
/// rules it follows are summed up at the top of `src/node/emitter.rs`; each
/// method states its own.
///
/// Cloning is cheap and clones share their listeners (like copies of a
/// JavaScript reference), so a callback can capture the emitter it needs.
/// The emitter works with or without a running loop; only [`once_event`]
/// needs one.
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// use evloop::{Event, EventEmitter};
/// evloop::events! {
///     struct Data("data"): u32;
///     struct End("end"): ();
/// }
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let stream = EventEmitter::new();
/// let l = log.clone();
/// stream.on(Data, move |n| l.borrow_mut().push(format!("data {n}")));
/// let l = log.clone();
/// stream.prepend_listener(Data, move |n| l.borrow_mut().push(format!("first {n}")));
/// let l = log.clone();
/// stream.once(End, move |()| l.borrow_mut().push("end".to_string()));
///
/// evloop::run({
///     let stream = stream.clone();
///     move || {
///         evloop::set_timeout(10, move || {
///             assert!(stream.emit(Data, 1)); // listeners run right here
///             stream.emit(End, ());
///             assert!(!stream.emit(End, ())); // the once-listener is gone
///         });
///     }
/// });
/// assert_eq!(*log.borrow(), ["first 1", "data 1", "end"]);
/// assert_eq!(stream.event_names(), [Data::NAME]);
/// ```
#[derive(Clone)]
pub struct EventEmitter {
    inner: Rc<RefCell<Inner>>,
}

/// A weak reference to an [`EventEmitter`], for a listener that must reach
/// its own emitter without keeping it alive (no reference cycle).
#[derive(Clone)]
pub struct WeakEventEmitter {
    inner: Weak<RefCell<Inner>>,
}

impl WeakEventEmitter {
    /// The emitter, if any strong clone of it is still alive.
    pub fn upgrade(&self) -> Option<EventEmitter> {
        self.inner.upgrade().map(|inner| EventEmitter { inner })
    }
}

impl fmt::Debug for WeakEventEmitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WeakEventEmitter")
    }
}

impl Default for EventEmitter {
    fn default() -> Self {
        EventEmitter::new()
    }
}

impl fmt::Debug for EventEmitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("EventEmitter");
        match self.inner.try_borrow() {
            Ok(inner) => {
                let events: Vec<(&str, usize)> = inner
                    .slots
                    .iter()
                    .map(|s| (s.name, s.listeners.len()))
                    .collect();
                d.field("listeners", &events)
                    .field("max_listeners", &inner.max_listeners);
            }
            Err(_) => {
                d.field("listeners", &"<borrowed>");
            }
        }
        d.finish()
    }
}

impl EventEmitter {
    /// A new emitter with no listeners and the default limit
    /// ([`DEFAULT_MAX_LISTENERS`]).
    pub fn new() -> EventEmitter {
        EventEmitter {
            inner: Rc::new(RefCell::new(Inner {
                slots: Vec::new(),
                max_listeners: DEFAULT_MAX_LISTENERS,
            })),
        }
    }

    /// A weak reference to this emitter.
    pub fn downgrade(&self) -> WeakEventEmitter {
        WeakEventEmitter {
            inner: Rc::downgrade(&self.inner),
        }
    }

    /// `emitter.on(name, listener)`: appends `f` to `event`'s listeners
    /// (registering a listener twice calls it twice) and returns its id.
    ///
    /// [`NewListener`] fires first; a `MaxListenersExceededWarning` may be
    /// logged after (see [`set_max_listeners`](Self::set_max_listeners)).
    ///
    /// # Panics
    /// If `event`'s name already has listeners on this emitter with another
    /// payload type (two marker types share the name).
    #[track_caller]
    pub fn on<E: Event>(&self, event: E, f: impl Fn(&E::Payload) + 'static) -> ListenerId {
        self.on_listener(event, &Listener::new(f))
    }

    /// `emitter.addListener(name, listener)`: the same as
    /// [`on`](Self::on).
    #[track_caller]
    pub fn add_listener<E: Event>(
        &self,
        event: E,
        f: impl Fn(&E::Payload) + 'static,
    ) -> ListenerId {
        self.on(event, f)
    }

    /// `emitter.prependListener(name, listener)`: like [`on`](Self::on), but
    /// puts `f` first.
    #[track_caller]
    pub fn prepend_listener<E: Event>(
        &self,
        event: E,
        f: impl Fn(&E::Payload) + 'static,
    ) -> ListenerId {
        let _ = event;
        self.add::<E>(Listener::new(f), false, true)
    }

    /// `emitter.once(name, listener)`: appends a listener that runs at most
    /// once: the next emit removes it (firing [`RemoveListener`]) *before*
    /// calling it, so a nested emit from inside it does not call it again.
    #[track_caller]
    pub fn once<E: Event>(&self, event: E, f: impl FnOnce(&E::Payload) + 'static) -> ListenerId {
        let _ = event;
        self.add::<E>(once_fn(f), true, false)
    }

    /// `emitter.prependOnceListener(name, listener)`: [`once`](Self::once),
    /// put first.
    #[track_caller]
    pub fn prepend_once_listener<E: Event>(
        &self,
        event: E,
        f: impl FnOnce(&E::Payload) + 'static,
    ) -> ListenerId {
        let _ = event;
        self.add::<E>(once_fn(f), true, true)
    }

    /// Appends a registration of `listener` (as [`on`](Self::on) does) and
    /// returns its id, [`Listener::id`]. Registering one listener several
    /// times is how Node's duplicate registrations are ported.
    #[track_caller]
    pub fn on_listener<E: Event>(&self, event: E, listener: &Listener<E::Payload>) -> ListenerId {
        let _ = event;
        self.add::<E>(listener.clone(), false, false)
    }

    /// Appends a once-registration of `listener` (as [`once`](Self::once)
    /// does) and returns its id, [`Listener::id`].
    #[track_caller]
    pub fn once_listener<E: Event>(&self, event: E, listener: &Listener<E::Payload>) -> ListenerId {
        let _ = event;
        self.add::<E>(listener.clone(), true, false)
    }

    #[track_caller]
    fn add<E: Event>(
        &self,
        listener: Listener<E::Payload>,
        once: bool,
        prepend: bool,
    ) -> ListenerId {
        let id = listener.id;
        check_payload::<E::Payload>(self.inner.borrow().slot(E::NAME));
        if self.inner.borrow().count(NewListener::NAME) > 0 {
            self.emit(NewListener, (E::NAME, id));
        }
        let entry = Rc::new(Entry {
            id,
            once,
            fired: Cell::new(false),
            f: Box::new(listener.f),
        });
        let mut inner = self.inner.borrow_mut();
        let max = inner.max_listeners;
        // A `NewListener` listener may have changed the slots: look again.
        let index = match inner.position(E::NAME) {
            Some(index) => {
                check_payload::<E::Payload>(Some(&inner.slots[index]));
                index
            }
            None => {
                inner.slots.push(Slot {
                    name: E::NAME,
                    payload: TypeId::of::<E::Payload>(),
                    payload_name: std::any::type_name::<E::Payload>(),
                    listeners: Vec::new(),
                    warned: false,
                });
                inner.slots.len() - 1
            }
        };
        let slot = &mut inner.slots[index];
        if prepend {
            slot.listeners.insert(0, entry);
        } else {
            slot.listeners.push(entry);
        }
        let count = slot.listeners.len();
        if max > 0 && count > max && !slot.warned {
            slot.warned = true;
            drop(inner);
            log::warn!(
                target: LOG_TARGET,
                "MaxListenersExceededWarning: Possible EventEmitter memory leak detected. \
                 {count} {} listeners added to [EventEmitter]. MaxListeners is {max}. \
                 Use emitter.setMaxListeners() to increase limit",
                E::NAME
            );
        }
        id
    }

    /// `emitter.off(name, listener)`: removes the most recently added
    /// registration of listener `id` for `event` (a once-registration too),
    /// then fires [`RemoveListener`]. Returns whether one was removed;
    /// removing an unknown or already removed listener is a no-op.
    pub fn off<E: Event>(&self, event: E, id: ListenerId) -> bool {
        let _ = event;
        self.remove_where(E::NAME, |e| e.id == id)
    }

    /// `emitter.removeListener(name, listener)`: the same as
    /// [`off`](Self::off).
    pub fn remove_listener<E: Event>(&self, event: E, id: ListenerId) -> bool {
        self.off(event, id)
    }

    /// Removes the last entry of `name` matching `pred`, then fires
    /// `RemoveListener` if anyone still listens for it.
    fn remove_where(&self, name: &str, pred: impl Fn(&Rc<Entry>) -> bool) -> bool {
        let (name, removed) = {
            let mut inner = self.inner.borrow_mut();
            let Some(index) = inner.position(name) else {
                return false;
            };
            let slot = &mut inner.slots[index];
            let Some(pos) = slot.listeners.iter().rposition(pred) else {
                return false;
            };
            let removed = slot.listeners.remove(pos);
            let name = slot.name;
            if slot.listeners.len() <= 1 {
                slot.warned = false;
            }
            if slot.listeners.is_empty() {
                inner.slots.remove(index);
            }
            (name, removed)
        };
        let id = removed.id;
        // Drop the closure with no borrow held: its captures may use us.
        drop(removed);
        if self.inner.borrow().count(RemoveListener::NAME) > 0 {
            self.emit(RemoveListener, (name, id));
        }
        true
    }

    /// `emitter.removeAllListeners([name])`: removes every listener of
    /// `Some(name)`, or of every event with `None`.
    ///
    /// Like Node, when the emitter has [`RemoveListener`] listeners they hear
    /// about each removal, last-added first; with `None`, the other events
    /// go first (in [`event_names`](Self::event_names) order) and
    /// `"removeListener"` itself last, and anything added meanwhile is
    /// removed silently at the end.
    pub fn remove_all_listeners(&self, name: Option<&str>) {
        if self.inner.borrow().count(RemoveListener::NAME) == 0 {
            let removed = {
                let mut inner = self.inner.borrow_mut();
                match name {
                    None => std::mem::take(&mut inner.slots),
                    Some(name) => match inner.position(name) {
                        Some(index) => vec![inner.slots.remove(index)],
                        None => Vec::new(),
                    },
                }
            };
            drop(removed);
            return;
        }
        match name {
            None => {
                for name in self.event_names() {
                    if name != RemoveListener::NAME {
                        self.remove_all_listeners(Some(name));
                    }
                }
                self.remove_all_listeners(Some(RemoveListener::NAME));
                let rest = std::mem::take(&mut self.inner.borrow_mut().slots);
                drop(rest);
            }
            Some(name) => {
                let listeners = match self.inner.borrow().slot(name) {
                    Some(slot) => slot.listeners.clone(),
                    None => return,
                };
                for entry in listeners.iter().rev() {
                    self.remove_where(name, |e| Rc::ptr_eq(e, entry));
                }
            }
        }
    }

    /// `emitter.emit(name, ...args)`: calls every listener of `event` with
    /// `&payload`, synchronously, in order, and returns whether there was
    /// any.
    ///
    /// The listeners called are those registered when `emit` starts (a
    /// snapshot); a once-listener is removed just before it is called, and
    /// one that already ran (in a nested emit) is skipped. A panic in a
    /// listener propagates out of `emit` and the remaining listeners are not
    /// called, as a JavaScript exception would; the emitter stays usable.
    ///
    /// # Panics
    /// If `E::NAME` is `"error"` and nobody listens for `"error"`, like Node's
    /// throw, with the message `Unhandled error. ({payload:?})` (Node's
    /// `ERR_UNHANDLED_ERROR` text, `Debug` standing for `util.inspect`). In a
    /// loop callback this is an uncaught panic (see [`crate::EventLoop`]);
    /// inside `std::panic::catch_unwind` it is a `try/catch`. Also if the
    /// event's name has listeners with another payload type.
    #[track_caller]
    pub fn emit<E: Event>(&self, event: E, payload: E::Payload) -> bool {
        let _ = event;
        let snapshot = {
            let inner = self.inner.borrow();
            let slot = inner.slot(E::NAME);
            check_payload::<E::Payload>(slot);
            slot.map(|s| s.listeners.clone())
        };
        let Some(snapshot) = snapshot else {
            if E::NAME == ERROR {
                panic!("Unhandled error. ({payload:?})");
            }
            return false;
        };
        for entry in snapshot {
            if entry.once {
                if entry.fired.get() {
                    continue;
                }
                self.remove_where(E::NAME, |e| Rc::ptr_eq(e, &entry));
                entry.fired.set(true);
            }
            let f = entry
                .f
                .downcast_ref::<Rc<dyn Fn(&E::Payload)>>()
                .expect("the slot's payload type was checked");
            f(&payload);
        }
        true
    }

    /// `emitter.listenerCount(name)`: how many registrations `name` has.
    pub fn listener_count(&self, name: &str) -> usize {
        self.inner.borrow().count(name)
    }

    /// `emitter.eventNames()`: the names that have listeners, in the order
    /// their first current listener was added (a name whose listeners were
    /// all removed goes to the back when it gets one again). As in
    /// JavaScript's key order, names that are array indices (`"0"`, `"7"`)
    /// come first, in numeric order.
    pub fn event_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> =
            self.inner.borrow().slots.iter().map(|s| s.name).collect();
        names.sort_by_key(|name| array_index(name).map_or((1, 0), |i| (0, i)));
        names
    }

    /// `emitter.setMaxListeners(n)`: the number of listeners per event name
    /// above which adding one logs a warning; 0 means unlimited. Default
    /// [`DEFAULT_MAX_LISTENERS`].
    ///
    /// The warning is a leak hint, not an error: the listener is added. It
    /// goes to the `log` crate at `Warn` level with target
    /// `evloop::emitter`, once per emitter and event name (again only after
    /// the name drops to one listener or none, as in Node), with Node's text:
    /// `MaxListenersExceededWarning: Possible EventEmitter memory leak
    /// detected. 11 request listeners added to [EventEmitter]. MaxListeners
    /// is 10. Use emitter.setMaxListeners() to increase limit`.
    pub fn set_max_listeners(&self, n: usize) {
        self.inner.borrow_mut().max_listeners = n;
    }

    /// `emitter.getMaxListeners()`: the current limit (0 = unlimited).
    pub fn get_max_listeners(&self) -> usize {
        self.inner.borrow().max_listeners
    }
}

/// A `Fn` that calls `f` the first time only (the once-wrapper removes
/// itself before calling, so there is no second time).
fn once_fn<P: 'static>(f: impl FnOnce(&P) + 'static) -> Listener<P> {
    let f = Cell::new(Some(f));
    Listener::new(move |p: &P| {
        if let Some(f) = f.take() {
            f(p)
        }
    })
}

/// `name` as a JavaScript array index (canonical decimal below 2^32 - 1),
/// which object key order puts first.
fn array_index(name: &str) -> Option<u32> {
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse::<u32>().ok().filter(|&i| i != u32::MAX)
}

/// `await events.once(emitter, name)`: registers a once-listener for `event`
/// now and returns a future of the payload of the next emit (cloned, as
/// every listener gets a reference).
///
/// # Ordering
/// Node's `events.once` is an async function returning a promise, so its
/// caller resumes two microtask hops after the emitting callback (three if
/// the emit comes before the first microtask checkpoint after the call),
/// where a promise resolved by a listener resumes after one. This future
/// resumes at the same point, so a port keeps Node's order exactly.
///
/// Resolves to `Err(BrokenPromise)` if the listener is removed without
/// firing (`remove_all_listeners`) or the emitter is dropped. Unlike Node's,
/// it does not reject on `'error'`.
///
/// # Panics
/// If no event loop is running on this thread.
///
/// ```
/// evloop::events! { struct Ready("ready"): u32; }
/// let answer = evloop::run_async(async {
///     let e = evloop::EventEmitter::new();
///     let ready = evloop::once_event(&e, Ready);
///     evloop::set_timeout(5, move || {
///         e.emit(Ready, 42);
///     });
///     ready.await
/// });
/// assert_eq!(answer, Ok(42));
/// ```
///
/// [`BrokenPromise`]: crate::BrokenPromise
#[track_caller]
pub fn once_event<E: Event>(emitter: &EventEmitter, event: E) -> Deferred<E::Payload>
where
    E::Payload: Clone,
{
    with_core("once_event", |_| ());
    let (resolver, value) = deferred();
    // Node's inner promise P: resolved by the listener, adopted by the outer
    // promise (our Deferred) through a `then` job queued when `once` returns.
    let inner = Rc::new(RefCell::new(Adoption {
        payload: None,
        subscribed: false,
        resolver: Some(resolver),
    }));
    let p = inner.clone();
    emitter.once(event, move |payload: &E::Payload| {
        let subscribed = {
            let mut p = p.borrow_mut();
            p.payload = Some(payload.clone());
            p.subscribed
        };
        if subscribed {
            queue_microtask(move || Adoption::settle(&p));
        }
    });
    queue_microtask(move || {
        let resolved = {
            let mut p = inner.borrow_mut();
            p.subscribed = true;
            p.payload.is_some()
        };
        if resolved {
            queue_microtask(move || Adoption::settle(&inner));
        }
    });
    value
}

/// The state of `events.once`'s inner promise, adopted by the returned one.
struct Adoption<P> {
    payload: Option<P>,
    /// The adoption job (`P.then(resolveOuter)`) has run.
    subscribed: bool,
    resolver: Option<Resolver<P>>,
}

impl<P> Adoption<P> {
    /// The reaction `P.then` queued: resolves the outer promise.
    fn settle(this: &RefCell<Adoption<P>>) {
        let (resolver, payload) = {
            let mut this = this.borrow_mut();
            (this.resolver.take(), this.payload.take())
        };
        if let (Some(resolver), Some(payload)) = (resolver, payload) {
            resolver.resolve(payload);
        }
    }
}

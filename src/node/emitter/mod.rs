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
//! - [`ErrorMonitor`] listeners see an `"error"` emit before its
//!   listeners, and do not count as one.
//! - [`listeners`](EventEmitter::listeners) and
//!   [`raw_listeners`](EventEmitter::raw_listeners) give listener ids,
//!   not functions.
//! - The 11th listener for one name raises a `MaxListenersExceededWarning`;
//!   see [`set_max_listeners`](EventEmitter::set_max_listeners).
//! - [`once_event`] is `events.once`: a future of the next payload that
//!   resumes after as many microtask hops as `await events.once(...)`.
//! - [`on_event`] is `events.on`: an [`EventStream`] of every later
//!   payload, buffered in order while nobody waits, resuming `next().await`
//!   where `for await` would; [`on_event_or_error`] also ends it on
//!   `'error'`, as Node's does.
//!
//! # Differences from Node
//! - A listener has no `this`: capture a clone of the emitter (or a
//!   [`WeakEventEmitter`]). A listener that holds a strong clone of its own
//!   emitter forms a reference cycle, freed when the listener is removed.
//! - A listener takes `&Payload` and is `Fn`, so that it can be re-entered
//!   by a nested emit; use `Cell`/`RefCell` for its state. `once` accepts
//!   an `FnOnce`.
//! - The unhandled-error panic shows a `String`/`&str`, float or `()`
//!   payload as Node's `util.inspect` shows the string, number or
//!   `undefined`, and any other payload with `Debug` (integers and `bool`
//!   print alike; a struct does not look like a JavaScript object). Node
//!   rethrows an `Error` payload as is; here it is formatted like the rest.
//! - [`once_event`] does not reject on `'error'` (the error event's payload
//!   type is not known to it), so it adds no `'error'` listener;
//!   [`once_event_or_error`] is the full `events.once`, told the error
//!   event's marker, and yields `Err(error payload)` when it comes first.
//!   Neither takes an `AbortSignal`. The same split holds for [`on_event`]
//!   and [`on_event_or_error`].
//! - An [`EventStream`] buffers at most its
//!   [capacity](EventStream::capacity) (Node: without bound, or pausing a
//!   stream at a high-water mark): past it, the emit panics. Its
//!   [`EventStreamCloser`] stands for the `signal` option and ends the
//!   stream (`None`) where an abort would reject with an `AbortError`; and
//!   a stream whose listener is removed by someone else, or whose emitter
//!   is dropped, ends, where Node's iterator waits forever.
//! - The emitter itself needs no running loop (only [`once_event`] does).
//! - A listener's return value is `()`: there is no `captureRejections`.
//!
//! # Files
//! [`Event`], the [`events!`](crate::events!) macro and the meta-events in
//! `event.rs`; [`ListenerId`] and [`Listener`] in `listener.rs`; the
//! listener table behind an emitter (its slots per event name, the payload
//! type check) in `table.rs`; [`EventEmitter`] and [`WeakEventEmitter`] in
//! `handle.rs`; [`once_event`] and [`once_event_or_error`] in `once.rs`;
//! [`on_event`], [`on_event_or_error`] and [`EventStream`] in `on.rs`.

mod event;
mod handle;
mod listener;
mod on;
mod once;
mod table;

pub use event::{ErrorMonitor, Event, NewListener, RemoveListener};
pub use handle::{DEFAULT_MAX_LISTENERS, EventEmitter, WeakEventEmitter};
pub use listener::{Listener, ListenerId};
pub use on::{
    DEFAULT_EVENT_STREAM_CAPACITY, EventStream, EventStreamCloser, on_event, on_event_or_error,
};
pub use once::{once_event, once_event_or_error};

//! [`once_event`], Node's `events.once`: the next payload of an event as
//! a future, resuming where `await events.once(...)` would.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::futures::promise::{Deferred, Resolver, deferred};
use crate::rt::context::with_core;
use crate::rt::queue::queue_microtask;

use super::event::Event;
use super::handle::EventEmitter;
use super::listener::ListenerId;

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
/// it does not reject on `'error'` (it cannot know the error event's payload
/// type): [`once_event_or_error`] does.
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
    let (settle, value) = adoption();
    emitter.once(event, move |payload: &E::Payload| settle(payload.clone()));
    value
}

/// `await events.once(emitter, name)` with Node's rejection: like
/// [`once_event`], but also registers a once-listener for `error` (the
/// emitter's error event, usually named `"error"`), and whichever of the two
/// fires first settles the future and removes the other listener (firing
/// [`RemoveListener`]). `Ok(payload)` if `event` came first,
/// `Err(error payload)` if `error` did: Node's `try { await once(..) }
/// catch (err)`. The future resumes at the same microtask hop either way.
///
/// Node adds no `'error'` listener when the awaited event is `'error'`
/// itself; so here, when `E::NAME == R::NAME`, only the `event` listener is
/// registered and the result is always `Ok`. While the future is pending,
/// the emitter has an error listener, so an emitted error does not panic
/// (it is handled, by rejecting).
///
/// Resolves to `Err(BrokenPromise)` if both listeners are removed without
/// firing (`remove_all_listeners(None)`) or the emitter is dropped.
///
/// # Panics
/// If no event loop is running on this thread.
///
/// ```
/// evloop::events! {
///     struct Ready("ready"): u32;
///     struct Failed("error"): String;
/// }
/// let outcome = evloop::run_async(async {
///     let e = evloop::EventEmitter::new();
///     let ready = evloop::once_event_or_error(&e, Ready, Failed);
///     evloop::set_timeout(5, move || {
///         e.emit(Failed, "no route".to_string()); // handled: no panic
///         assert_eq!(e.listener_count("ready"), 0); // and removed
///     });
///     ready.await
/// });
/// assert_eq!(outcome, Ok(Err("no route".to_string())));
/// ```
///
/// [`RemoveListener`]: crate::RemoveListener
/// [`BrokenPromise`]: crate::BrokenPromise
#[track_caller]
pub fn once_event_or_error<E: Event, R: Event>(
    emitter: &EventEmitter,
    event: E,
    error: R,
) -> Deferred<Result<E::Payload, R::Payload>>
where
    E::Payload: Clone,
    R::Payload: Clone,
{
    with_core("once_event_or_error", |_| ());
    let (settle, value) = adoption();
    let settle = Rc::new(settle);
    let error_id: Rc<Cell<Option<ListenerId>>> = Rc::new(Cell::new(None));
    let weak = emitter.downgrade();
    let (ids, on_value) = (error_id.clone(), settle.clone());
    let event_id = emitter.once(event, move |payload: &E::Payload| {
        if let (Some(id), Some(e)) = (ids.take(), weak.upgrade()) {
            e.off_name(R::NAME, id);
        }
        on_value(Ok(payload.clone()));
    });
    if E::NAME != R::NAME {
        let weak = emitter.downgrade();
        let id = emitter.once(error, move |payload: &R::Payload| {
            if let Some(e) = weak.upgrade() {
                e.off_name(E::NAME, event_id);
            }
            settle(Err(payload.clone()));
        });
        error_id.set(Some(id));
    }
    value
}

/// Node's inner promise P, resolved by a listener, and the outer promise
/// (the returned [`Deferred`]) adopting it through a `then` job queued when
/// `once` returns: the function that resolves P (the first call wins) and
/// the outer promise.
fn adoption<T: 'static>() -> (impl Fn(T) + 'static, Deferred<T>) {
    let (resolver, value) = deferred();
    let inner = Rc::new(RefCell::new(Adoption {
        payload: None,
        resolved: false,
        subscribed: false,
        resolver: Some(resolver),
    }));
    let p = inner.clone();
    let resolve = move |payload: T| {
        let subscribed = {
            let mut state = p.borrow_mut();
            if state.resolved {
                return;
            }
            state.resolved = true;
            state.payload = Some(payload);
            state.subscribed
        };
        if subscribed {
            let p = p.clone();
            queue_microtask(move || Adoption::settle(&p));
        }
    };
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
    (resolve, value)
}

/// The state of `events.once`'s inner promise, adopted by the returned one.
struct Adoption<P> {
    payload: Option<P>,
    /// P is resolved: later resolutions are ignored.
    resolved: bool,
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

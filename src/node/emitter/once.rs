//! [`once_event`], Node's `events.once`: the next payload of an event as
//! a future, resuming where `await events.once(...)` would.

use std::cell::RefCell;
use std::rc::Rc;

use crate::futures::promise::{Deferred, Resolver, deferred};
use crate::rt::context::with_core;
use crate::rt::queue::queue_microtask;

use super::event::Event;
use super::handle::EventEmitter;

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

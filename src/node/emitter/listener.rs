//! A listener's identity: [`ListenerId`], and [`Listener`], a function that
//! keeps its identity across registrations; and the wrapper that makes a
//! once-listener of an `FnOnce`.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A listener's identity, like a JavaScript function object's: returned by
/// every registration and accepted by [`EventEmitter::off`]. Unique within
/// the process; all registrations of one [`Listener`] share it.
///
/// [`EventEmitter::off`]: crate::EventEmitter::off
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(u64);

impl ListenerId {
    /// A fresh identity.
    pub(crate) fn next() -> ListenerId {
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
///
/// [`EventEmitter::off`]: crate::EventEmitter::off
pub struct Listener<P: 'static> {
    /// Shared by its clones: all registrations of this listener.
    pub(super) id: ListenerId,
    /// The function, type-erased into an `Entry` of the listener table when
    /// registered.
    pub(super) f: Rc<dyn Fn(&P)>,
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
    ///
    /// [`EventEmitter::off`]: crate::EventEmitter::off
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

/// A `Fn` that calls `f` the first time only (the once-wrapper removes
/// itself before calling, so there is no second time).
pub(super) fn once_fn<P: 'static>(f: impl FnOnce(&P) + 'static) -> Listener<P> {
    let f = Cell::new(Some(f));
    Listener::new(move |p: &P| {
        if let Some(f) = f.take() {
            f(p)
        }
    })
}

//! [`EventEmitter`], the handle (and [`WeakEventEmitter`], its weak
//! form): registering listeners, removing them, and `emit`.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};

use crate::rt::process::{ProcessWarning, emit_warning};

use super::event::{ERROR_MONITOR, Event, NewListener, RemoveListener};
use super::listener::{Listener, ListenerId, once_fn};
use super::table::{Entry, Slot, Table, check_payload};

/// The default limit of listeners per event name before the leak warning,
/// Node's `EventEmitter.defaultMaxListeners`.
pub const DEFAULT_MAX_LISTENERS: usize = 10;

/// The `log` target of the `MaxListenersExceededWarning`.
const LOG_TARGET: &str = "evloop::emitter";

/// The name that makes [`EventEmitter::emit`] panic when nobody listens.
const ERROR: &str = "error";

/// Node's `EventEmitter`, for one thread: register listeners for typed
/// [`Event`]s and [`emit`](EventEmitter::emit) them. The design and Node's
/// rules it follows are summed up at the top of `src/node/emitter/mod.rs`;
/// each method states its own.
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
///
/// [`once_event`]: crate::once_event
#[derive(Clone)]
pub struct EventEmitter {
    inner: Rc<RefCell<Table>>,
}

/// A weak reference to an [`EventEmitter`], for a listener that must reach
/// its own emitter without keeping it alive (no reference cycle).
#[derive(Clone)]
pub struct WeakEventEmitter {
    inner: Weak<RefCell<Table>>,
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
            inner: Rc::new(RefCell::new(Table {
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
    /// [`NewListener`] fires first; a `MaxListenersExceededWarning` may
    /// follow (see [`set_max_listeners`](Self::set_max_listeners)).
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

    /// Registers `listener` for `E`, first or last: what every `on` and
    /// `once` flavour does.
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
            let message = format!(
                "Possible EventEmitter memory leak detected. {count} {} listeners added to \
                 [EventEmitter]. MaxListeners is {max}. Use emitter.setMaxListeners() to \
                 increase limit",
                E::NAME
            );
            log::warn!(target: LOG_TARGET, "MaxListenersExceededWarning: {message}");
            emit_warning(ProcessWarning::new(message).with_name("MaxListenersExceededWarning"));
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

    /// [`off`](Self::off) by the event's name, for code holding no marker.
    pub(super) fn off_name(&self, name: &str, id: ListenerId) -> bool {
        self.remove_where(name, |e| e.id == id)
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
    /// An event named `"error"` first goes to the emitter's [`ErrorMonitor`](crate::ErrorMonitor)
    /// listeners, if any, then to its listeners.
    ///
    /// # Panics
    /// If `E::NAME` is `"error"` and nobody listens for `"error"`, like Node's
    /// throw, with the message `Unhandled error. (PAYLOAD)`, Node's
    /// `ERR_UNHANDLED_ERROR` text. PAYLOAD is what `util.inspect` prints
    /// for the JavaScript value a payload stands for: a `String` or `&str`
    /// quoted and escaped (`'text'`, `"it's"`), a float without a needless
    /// `.0` (`2`), `()` as `undefined`; any other payload (integers and
    /// `bool` print as Node's) by its `Debug` form:
    ///
    /// ```
    /// use std::panic::{AssertUnwindSafe, catch_unwind};
    /// evloop::events! { struct Failed("error"): String; }
    /// let e = evloop::EventEmitter::new();
    /// let caught = catch_unwind(AssertUnwindSafe(|| e.emit(Failed, "no route".into())));
    /// let message = caught.unwrap_err().downcast::<String>().unwrap();
    /// assert_eq!(*message, "Unhandled error. ('no route')"); // Node's text
    /// ```
    ///
    /// In a
    /// loop callback this is an uncaught panic (see [`crate::EventLoop`]);
    /// inside `std::panic::catch_unwind` it is a `try/catch`. Also if the
    /// event's name has listeners with another payload type.
    #[track_caller]
    pub fn emit<E: Event>(&self, event: E, payload: E::Payload) -> bool {
        let _ = event;
        if E::NAME == ERROR {
            self.call(ERROR_MONITOR, &payload);
        }
        if self.call(E::NAME, &payload) {
            return true;
        }
        if E::NAME == ERROR {
            panic!("Unhandled error. ({})", inspect(&payload));
        }
        false
    }

    /// Calls the listeners `name` has now with `payload`; whether it had any.
    #[track_caller]
    fn call<P: 'static>(&self, name: &str, payload: &P) -> bool {
        let snapshot = {
            let inner = self.inner.borrow();
            let slot = inner.slot(name);
            check_payload::<P>(slot);
            slot.map(|s| s.listeners.clone())
        };
        let Some(snapshot) = snapshot else {
            return false;
        };
        for entry in snapshot {
            if entry.once {
                if entry.fired.get() {
                    continue;
                }
                self.remove_where(name, |e| Rc::ptr_eq(e, &entry));
                entry.fired.set(true);
            }
            let f = entry
                .f
                .downcast_ref::<Rc<dyn Fn(&P)>>()
                .expect("the slot's payload type was checked");
            f(payload);
        }
        true
    }

    /// `emitter.listeners(name)`: the ids of `name`'s registrations, in
    /// calling order, one per registration (a listener registered twice is
    /// there twice). Node returns the functions, once-listeners unwrapped;
    /// here a listener is its [`ListenerId`], the same for a once-listener
    /// as for the function it wraps.
    ///
    /// ```
    /// evloop::events! { struct Tick("tick"): (); }
    /// let e = evloop::EventEmitter::new();
    /// let a = e.on(Tick, |_| {});
    /// let b = e.once(Tick, |_| {});
    /// let c = e.prepend_listener(Tick, |_| {});
    /// assert_eq!(e.listeners("tick"), [c, a, b]);
    /// assert_eq!(e.raw_listeners("tick"), [(c, false), (a, false), (b, true)]);
    /// e.emit(Tick, ());
    /// assert_eq!(e.listeners("tick"), [c, a]); // the once-listener is gone
    /// ```
    pub fn listeners(&self, name: &str) -> Vec<ListenerId> {
        self.raw_listeners(name)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// `emitter.rawListeners(name)`: like [`listeners`](Self::listeners),
    /// with whether each registration is a once-registration: `(id, once)`,
    /// where Node shows a once-listener as its wrapper (whose `.listener`
    /// is the function).
    pub fn raw_listeners(&self, name: &str) -> Vec<(ListenerId, bool)> {
        self.inner.borrow().slot(name).map_or_else(Vec::new, |s| {
            s.listeners.iter().map(|e| (e.id, e.once)).collect()
        })
    }

    /// `emitter.listenerCount(name)`: how many registrations `name` has.
    pub fn listener_count(&self, name: &str) -> usize {
        self.inner.borrow().count(name)
    }

    /// `emitter.eventNames()`: the names that have listeners, in the order
    /// their first current listener was added (a name whose listeners were
    /// all removed goes to the back when it gets one again). As in
    /// JavaScript's key order, names that are array indices (`"0"`, `"7"`)
    /// come first, in numeric order, and [`ErrorMonitor`](crate::ErrorMonitor)'s name (Node's
    /// symbol) last.
    pub fn event_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> =
            self.inner.borrow().slots.iter().map(|s| s.name).collect();
        names.sort_by_key(|&name| match array_index(name) {
            Some(i) => (0, i),
            None if name == ERROR_MONITOR => (2, 0),
            None => (1, 0),
        });
        names
    }

    /// `emitter.setMaxListeners(n)`: the number of listeners per event name
    /// above which adding one raises a warning; 0 means unlimited. Default
    /// [`DEFAULT_MAX_LISTENERS`].
    ///
    /// The warning is a leak hint, not an error: the listener is added. Once
    /// per emitter and event name (again only after the name drops to one
    /// listener or none, as in Node) it is a process warning
    /// ([`process::emit_warning`](crate::process::emit_warning): printed on
    /// stderr and emitted as [`process::Warning`](crate::process::Warning)
    /// on a next tick) named `MaxListenersExceededWarning`, with Node's
    /// text: `Possible EventEmitter memory leak detected. 11 request
    /// listeners added to [EventEmitter]. MaxListeners is 10. Use
    /// emitter.setMaxListeners() to increase limit`. It is also logged at
    /// once (`log`, `Warn` level, target `evloop::emitter`).
    pub fn set_max_listeners(&self, n: usize) {
        self.inner.borrow_mut().max_listeners = n;
    }

    /// `emitter.getMaxListeners()`: the current limit (0 = unlimited).
    pub fn get_max_listeners(&self) -> usize {
        self.inner.borrow().max_listeners
    }
}

/// An unhandled error's payload as Node's `util.inspect` shows the value it
/// stands for (see [`EventEmitter::emit`]), else by `Debug`.
fn inspect<P: fmt::Debug + 'static>(payload: &P) -> String {
    let any: &dyn Any = payload;
    if let Some(s) = any.downcast_ref::<String>() {
        inspect_str(s)
    } else if let Some(s) = any.downcast_ref::<&'static str>() {
        inspect_str(s)
    } else if let Some(x) = any.downcast_ref::<f64>() {
        inspect_f64(*x)
    } else if let Some(x) = any.downcast_ref::<f32>() {
        inspect_f64(f64::from(*x))
    } else if any.is::<()>() {
        "undefined".to_string()
    } else {
        format!("{payload:?}")
    }
}

/// A JavaScript number as `util.inspect` prints it (`2`, `1.5`, `-0`,
/// `NaN`, `Infinity`).
fn inspect_f64(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if x == 0.0 && x.is_sign_negative() {
        "-0".to_string()
    } else {
        // `Display` never prints a trailing `.0`; it differs from
        // JavaScript only for very large or small magnitudes (no exponent).
        format!("{x}")
    }
}

/// A string as `util.inspect` quotes it: single quotes, or double quotes if
/// it has a single quote and no double quote, or backticks if it has both
/// and no backtick or `${`, else single quotes with `\'`; backslashes and
/// control characters escaped.
fn inspect_str(s: &str) -> String {
    let quote = if !s.contains('\'') {
        '\''
    } else if !s.contains('"') {
        '"'
    } else if !s.contains('`') && !s.contains("${") {
        '`'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
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

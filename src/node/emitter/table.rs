//! The listener table behind an emitter: one slot of type-erased
//! registrations per event name (Node's `_events`), and the check that
//! every use of a name agrees on its payload type.

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::rc::Rc;

use super::listener::ListenerId;
use crate::rt::panic::DropEach;

/// One registration. Node wraps a once-listener in a function of its own;
/// here the entry carries the flag, and the `Rc` is the wrapper's identity.
pub(super) struct Entry {
    /// The listener's identity, which `off` looks for.
    pub(super) id: ListenerId,
    /// Registered with `once`: removed before it runs.
    pub(super) once: bool,
    /// A once-entry that has started: a snapshot still holding it skips it.
    pub(super) fired: Cell<bool>,
    /// `Rc<dyn Fn(&P)>` for the slot's payload type `P`.
    pub(super) f: Box<dyn Any>,
}

/// The listeners of one event name (Node's `_events[name]`). Exists only
/// while it has listeners, so its position in `Table::slots` is the order
/// in which the name's key was (re)created.
pub(super) struct Slot {
    /// The event's name, the slot's key.
    pub(super) name: &'static str,
    /// The payload type every listener of the slot takes.
    pub(super) payload: TypeId,
    /// That type's name, for the panic when another one is used.
    pub(super) payload_name: &'static str,
    /// In calling order.
    pub(super) listeners: Vec<Rc<Entry>>,
    /// The leak warning was logged. Node keeps this flag on its listener
    /// array, which it replaces by a lone function when one listener is left,
    /// so the flag is cleared then.
    pub(super) warned: bool,
}

/// An emitter's listeners, shared by its clones: one [`Slot`] per event
/// name that has listeners, and the leak-warning limit.
pub(super) struct Table {
    /// In the order the names' keys were (re)created.
    pub(super) slots: Vec<Slot>,
    /// Listeners per name above which adding one logs a warning; 0: none.
    pub(super) max_listeners: usize,
}

/// The listeners one by one: an emitter dropped with the loop (the
/// `process` emitter, a worker's) may hold several whose destructors
/// panic, and two dropped together would abort the process (see
/// `DropEach`).
impl Drop for Table {
    fn drop(&mut self) {
        let mut each = DropEach::new("an emitter's listeners");
        for slot in std::mem::take(&mut self.slots) {
            for listener in slot.listeners {
                each.drop_one(listener);
            }
        }
        each.finish();
    }
}

impl Table {
    /// The index of `name`'s slot in `slots`.
    pub(super) fn position(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name == name)
    }

    /// `name`'s slot, if it has listeners.
    pub(super) fn slot(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.name == name)
    }

    /// How many registrations `name` has.
    pub(super) fn count(&self, name: &str) -> usize {
        self.slot(name).map_or(0, |s| s.listeners.len())
    }
}

/// Panics if `name` already has listeners taking another payload type.
#[track_caller]
pub(super) fn check_payload<P: 'static>(slot: Option<&Slot>) {
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

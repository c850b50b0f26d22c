//! The task table of one loop and its side maps: `Executor`, the part of
//! the executor that `Core` owns, and the data-only methods every other
//! part uses to find, count, free and clear a task. Nothing here polls or
//! wakes a task (that is `poll` and `waker`, which use `Core`), so `Core`
//! can hold an `Executor` without importing them: this module imports only
//! the arena and the task state, which are leaves too.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::sync::Arc;
use std::task::Waker;

use super::arena::{Arena, Slot};
use super::state::{DONE, HAS_ARC, HAS_JOIN, JOIN_WAKER, Join, TaskKey, TaskWaker};
use crate::rt::callback::Site;

/// `Executor::arcs`: slot indices to `Arc` wakers.
type Arcs = HashMap<u32, Arc<TaskWaker>, BuildHasherDefault<IndexHasher>>;

/// `Executor::join_wakers`: slot indices to the wakers awaiting them.
type JoinWakers = HashMap<u32, Waker, BuildHasherDefault<IndexHasher>>;

/// Hashes a slot index with one multiplication: the keys are small distinct
/// integers, and this is only hashed on the rare path of a cloned waker.
/// (`pub(super)`: it is in the type of the maps `poll` and the tests reach.)
#[derive(Default)]
pub(super) struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// All tasks of one loop.
pub(in crate::rt) struct Executor {
    /// The slots. No borrow of the table is ever held: every slot is reached
    /// through a shared reference and changed through its `Cell`s, so a
    /// poll, a wake or a spawn may run inside any of them.
    pub(super) tasks: Arena,
    /// The `Arc` wakers of pending tasks whose poll waker was cloned, by
    /// slot index (`HAS_ARC`). Few tasks have one, so `any_wakeable` scans
    /// these rather than every task.
    pub(super) arcs: RefCell<Arcs>,
    /// Foreign wakers awaiting tasks (`JOIN_WAKER`), by slot index.
    pub(super) join_wakers: RefCell<JoinWakers>,
    /// The generation the next spawned task gets.
    pub(super) next_gen: Cell<u32>,
    /// Tasks not yet done: these keep the loop alive while something can
    /// still wake them.
    pub(super) pending: Cell<usize>,
    /// The task whose poll is the only microtask queued, if it was queued
    /// onto an empty queue and has not run since (see `poll_task`).
    pub(super) sole: Cell<Option<TaskKey>>,
    /// The spawn site of the task whose poll panicked last: the site the
    /// loop's panic policy reports for a task poll (see `Core::call_poll`).
    pub(super) panicked: Cell<Option<Site>>,
}

impl Executor {
    /// An empty table.
    pub(in crate::rt) fn new() -> Executor {
        Executor {
            tasks: Arena::new(),
            arcs: RefCell::new(Arcs::default()),
            join_wakers: RefCell::new(JoinWakers::default()),
            next_gen: Cell::new(0),
            pending: Cell::new(0),
            sole: Cell::new(None),
            panicked: Cell::new(None),
        }
    }

    /// The spawn site of the task with packed key `key`: the site of its
    /// polls. (A task that is gone gets the executor's own, for the rare
    /// trace of a poll queued before its task finished.)
    pub(in crate::rt) fn site_of(&self, key: u64) -> Site {
        self.slot(TaskKey::unpack(key))
            .map_or(Location::caller(), |s| s.site.get())
    }

    /// The spawn site of the task whose poll panicked last (see
    /// [`Executor::site_of`] for a fallback).
    pub(in crate::rt) fn panic_site(&self) -> Site {
        self.panicked.take().unwrap_or(Location::caller())
    }

    /// Tasks not yet finished.
    /// Whether task `key` (packed) is still in the table: a handle may still
    /// await it.
    pub(in crate::rt) fn holds(&self, key: u64) -> bool {
        self.slot(TaskKey::unpack(key)).is_some()
    }

    pub(in crate::rt) fn pending(&self) -> usize {
        self.pending.get()
    }

    /// Tasks in the table (pending, or finished with an output not taken).
    pub(in crate::rt) fn live(&self) -> usize {
        self.tasks.live()
    }

    /// Whether some pending task can still be woken from outside the loop:
    /// its waker has been cloned and is held somewhere (e.g. by a thread).
    /// A pending task whose waker nobody holds can never run again, like a
    /// promise nothing will settle; such tasks do not keep the loop alive.
    /// O(tasks with an `Arc` waker), not O(tasks).
    pub(in crate::rt) fn any_wakeable(&self) -> bool {
        self.arcs
            .borrow()
            .values()
            .any(|a| Arc::strong_count(a) > 1)
    }

    /// Task `key`'s slot, if the task is still in the table.
    #[inline(always)]
    pub(super) fn slot(&self, key: TaskKey) -> Option<&Slot> {
        self.tasks
            .get(key.index)
            .filter(|s| s.generation.get() == key.generation && s.is_live())
    }

    /// The task's `Arc` waker, if it has one.
    pub(super) fn arc(&self, index: u32) -> Option<Arc<TaskWaker>> {
        self.arcs.borrow().get(&index).cloned()
    }

    /// Forgets the `Arc` waker of a task that is done or gone (`HAS_ARC`
    /// must have been set). Returned to be dropped outside any borrow.
    pub(super) fn forget_arc(&self, index: u32) -> Option<Arc<TaskWaker>> {
        self.arcs.borrow_mut().remove(&index)
    }

    /// Takes whoever awaits task `index` (in `slot`), if anyone does.
    pub(super) fn take_join(&self, index: u32, slot: &Slot) -> Option<Join> {
        let flags = slot.flags.get();
        if flags & HAS_JOIN == 0 {
            return None;
        }
        slot.flags.set(flags & !(HAS_JOIN | JOIN_WAKER));
        if flags & JOIN_WAKER == 0 {
            return Some(Join::Task(slot.join.get()));
        }
        self.take_join_waker(index, flags).map(Join::Waker)
    }

    /// Takes the foreign waker awaiting task `index`, if `flags` says there
    /// is one.
    pub(super) fn take_join_waker(&self, index: u32, flags: u8) -> Option<Waker> {
        if flags & JOIN_WAKER == 0 {
            return None;
        }
        self.join_wakers.borrow_mut().remove(&index)
    }

    /// Records `waker` as awaiting task `index` (unless the one recorded
    /// would wake the same task); returns the one it replaces.
    pub(super) fn set_join_waker(&self, index: u32, flags: u8, waker: &Waker) -> Option<Waker> {
        if flags & JOIN_WAKER != 0
            && let Some(old) = self.join_wakers.borrow().get(&index)
            && old.will_wake(waker)
        {
            return None;
        }
        // (Cloned outside the map's borrow: a foreign waker's clone is
        // foreign code.)
        let waker = waker.clone();
        self.join_wakers.borrow_mut().insert(index, waker)
    }

    /// Removes task `index` from the table, dropping its future or output
    /// in place (a destructor that touches the loop is fine: no borrow is
    /// held). Not for a task whose cell is in use (being polled).
    pub(super) fn vacate(&self, index: u32) {
        let Some(slot) = self.tasks.get(index) else {
            return;
        };
        if slot.is_busy() {
            debug_assert!(false, "vacating a task that is being polled");
            return;
        }
        let join = self.take_join(index, slot);
        let flags = slot.flags.replace(0);
        let arc = if flags & HAS_ARC != 0 {
            self.forget_arc(index)
        } else {
            None
        };
        self.tasks.vacate(index);
        drop(join);
        drop(arc);
    }

    /// Drops every task (loop teardown), except one being polled further up
    /// the stack, which cannot be dropped under its poll. Returns how many
    /// were dropped.
    pub(in crate::rt) fn clear(&self) -> usize {
        let mut n = 0;
        let mut index = 0;
        // (A destructor may spawn: the bounds are read again each time.)
        while index < self.tasks.high_water() && self.tasks.live() > 0 {
            if let Some(slot) = self.tasks.get(index)
                && slot.is_live()
                && !slot.is_busy()
            {
                if slot.flags.get() & DONE == 0 {
                    self.pending.set(self.pending.get() - 1);
                }
                // (The slot is freed even if the future's destructor panics.)
                let site = Some(slot.site.get());
                crate::rt::panic::run_in_teardown("a task's future", site, || self.vacate(index));
                n += 1;
            }
            index += 1;
        }
        let arcs = std::mem::take(&mut *self.arcs.borrow_mut());
        let wakers = std::mem::take(&mut *self.join_wakers.borrow_mut());
        self.sole.set(None);
        drop(arcs);
        drop(wakers);
        n
    }
}

//! The loop watchers' data, which `Core` owns: every idle, prepare and
//! check handle of the loop, and the three lists of the started ones, kept
//! as libuv keeps them (`loop->idle_handles` and its siblings, intrusive
//! doubly linked queues). The handles and the passes that run them are in
//! the parent module.
//!
//! The lists are libuv's `uv__queue`: a node is a slot's index, and each
//! list has a head node of its own, so insert at the head, remove from
//! anywhere and move a whole list are O(1), and a pass keeps libuv's exact
//! order under any start, stop or close from a callback (see
//! `Watchers::begin_pass`).

use std::cell::{Cell, RefCell};

use crate::rt::callback::{Site, SmallFn};
use crate::rt::refs::{KeepAlive, RefCount};

/// A watcher's kind: the phase it runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Idle = 0,
    Prepare = 1,
    Check = 2,
}

impl Kind {
    /// The kind's name as the handle's type says it, for messages.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Kind::Idle => "Idle",
            Kind::Prepare => "Prepare",
            Kind::Check => "Check",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// `Watchers::busy` bits: the idle, prepare, check list is not empty
/// (`1 << Kind`), some started watcher is referenced.
pub(crate) const IDLE: u8 = 1;
pub(crate) const PREPARE: u8 = 2;
pub(crate) const CHECK: u8 = 4;
pub(crate) const REFERENCED: u8 = 8;

/// The list a pass works through (libuv's local `queue` in `uv__run_idle`).
const PASS: u32 = 3;
/// Head nodes: the three kinds' lists and the pass's.
const HEADS: u32 = 4;

/// A watcher's state, as libuv's handle flags say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Initialised, not started (or stopped).
    Stopped,
    /// Started: in its kind's list (or the pass's).
    Active,
    /// `close` was called; the close callback has not run yet.
    Closing,
}

/// One watcher.
pub(crate) struct Slot {
    pub(crate) generation: u32,
    pub(crate) kind: Kind,
    /// `None` when the slot is free.
    pub(crate) state: Option<State>,
    /// `uv_has_ref`: whether it keeps the loop alive while started.
    pub(crate) referenced: bool,
    /// Held while started and referenced: the loop's count moves with it.
    keep: Option<KeepAlive>,
    /// The callback while started; `None` while it runs (lent out) or
    /// when stopped.
    pub(crate) cb: Option<SmallFn>,
    /// Where it was created, then where it was last started.
    pub(crate) site: Site,
    pub(crate) name: Option<&'static str>,
}

#[derive(Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
}

/// The table itself, behind `Watchers`' `RefCell`.
pub(crate) struct Table {
    slots: Vec<Slot>,
    /// `links[0..HEADS]` are the heads, `links[HEADS + i]` is slot `i`'s.
    links: Vec<Link>,
    free: Vec<u32>,
    /// Started, referenced watchers: these keep the loop alive.
    refs: RefCount,
}

/// Every watcher of one loop.
///
/// Invariants (kept by the methods, the only code that sees the fields): a
/// slot is in exactly one list (its kind's, or the pass's) iff it is
/// `Active`; `keep` is `Some` iff it is `Active` and referenced, so `refs`
/// counts exactly those; `busy` says which lists are non-empty and whether
/// `refs` is non-zero, so the loop's hot path reads one `Cell` (an empty
/// table costs each iteration a test and a branch per phase).
pub(crate) struct Watchers {
    table: RefCell<Table>,
    busy: Cell<u8>,
}

impl Watchers {
    pub(crate) fn new() -> Watchers {
        let heads = (0..HEADS).map(|h| Link { prev: h, next: h }).collect();
        Watchers {
            table: RefCell::new(Table {
                slots: Vec::new(),
                links: heads,
                free: Vec::new(),
                refs: RefCount::default(),
            }),
            busy: Cell::new(0),
        }
    }

    /// The `busy` bits (`IDLE`, `PREPARE`, `CHECK`, `REFERENCED`).
    #[inline(always)]
    pub(crate) fn busy(&self) -> u8 {
        self.busy.get()
    }

    /// Runs `f` on the table, then brings `busy` up to date.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Table) -> R) -> R {
        let mut t = self.table.borrow_mut();
        let r = f(&mut t);
        let mut busy = 0;
        for kind in [Kind::Idle, Kind::Prepare, Kind::Check] {
            if !t.is_empty(kind as u32) {
                busy |= kind.bit();
            }
        }
        if t.refs.get() > 0 {
            busy |= REFERENCED;
        }
        self.busy.set(busy);
        r
    }

    /// Reads the table.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Table) -> R) -> R {
        f(&self.table.borrow())
    }
}

impl Table {
    /// A new stopped watcher of `kind`, referenced (`uv_*_init`); returns
    /// its (index, generation).
    pub(crate) fn insert(&mut self, kind: Kind, site: Site) -> (u32, u32) {
        let fresh = |generation| Slot {
            generation,
            kind,
            state: Some(State::Stopped),
            referenced: true,
            keep: None,
            cb: None,
            site,
            name: None,
        };
        match self.free.pop() {
            Some(i) => {
                let slot = &mut self.slots[i as usize];
                *slot = fresh(slot.generation);
                (i, slot.generation)
            }
            None => {
                let i = u32::try_from(self.slots.len()).expect("fewer than 2^32 watchers");
                self.slots.push(fresh(0));
                self.links.push(Link {
                    prev: HEADS + i,
                    next: HEADS + i,
                });
                (i, 0)
            }
        }
    }

    /// Watcher `i` if `generation` still names it.
    pub(crate) fn get(&self, i: u32, generation: u32) -> Option<&Slot> {
        self.slots
            .get(i as usize)
            .filter(|s| s.generation == generation && s.state.is_some())
    }

    /// Watcher `i`, mutably, if `generation` still names it.
    pub(crate) fn get_mut(&mut self, i: u32, generation: u32) -> Option<&mut Slot> {
        self.slots
            .get_mut(i as usize)
            .filter(|s| s.generation == generation && s.state.is_some())
    }

    /// `uv_*_start` on a stopped watcher: puts it at the head of its
    /// kind's list (`uv__queue_insert_head`), so the watcher started last
    /// runs first.
    pub(crate) fn start(&mut self, i: u32, cb: SmallFn, site: Site) {
        let slot = &mut self.slots[i as usize];
        debug_assert_eq!(slot.state, Some(State::Stopped));
        slot.state = Some(State::Active);
        slot.cb = Some(cb);
        slot.site = site;
        if slot.referenced {
            slot.keep = Some(self.refs.add());
        }
        let head = slot.kind as u32;
        self.insert_after(head, HEADS + i);
    }

    /// `uv_*_stop` (to `Stopped`) or the stop inside `uv_close` (to
    /// `Closing`) of an active watcher; hands back its callback, if it is
    /// not running, to be dropped outside the table's borrow.
    pub(crate) fn stop(&mut self, i: u32, to: State) -> Option<SmallFn> {
        let slot = &mut self.slots[i as usize];
        let was = slot.state;
        slot.state = Some(to);
        if was != Some(State::Active) {
            return None;
        }
        if let Some(keep) = slot.keep.take() {
            self.refs.remove(keep);
        }
        let cb = slot.cb.take();
        self.unlink(HEADS + i);
        cb
    }

    /// `uv_ref` / `uv_unref`.
    pub(crate) fn set_ref(&mut self, i: u32, on: bool) {
        let slot = &mut self.slots[i as usize];
        slot.referenced = on;
        match (on, slot.state == Some(State::Active), slot.keep.take()) {
            (true, true, None) => slot.keep = Some(self.refs.add()),
            (false, _, Some(keep)) => self.refs.remove(keep),
            (_, _, keep) => slot.keep = keep,
        }
    }

    /// Frees watcher `i` (its close callback is about to run): its
    /// handles go stale.
    pub(crate) fn free(&mut self, i: u32) {
        let slot = &mut self.slots[i as usize];
        debug_assert_eq!(slot.state, Some(State::Closing));
        slot.state = None;
        slot.generation = slot.generation.wrapping_add(1);
        slot.name = None;
        self.free.push(i);
    }

    /// The start of `uv__run_<kind>`: moves the kind's whole list into the
    /// pass's (`uv__queue_move`), which `next_in_pass` then empties.
    pub(crate) fn begin_pass(&mut self, kind: Kind) {
        let head = kind as u32;
        debug_assert!(self.is_empty(PASS));
        if self.is_empty(head) {
            return;
        }
        let (first, last) = (
            self.links[head as usize].next,
            self.links[head as usize].prev,
        );
        self.links[PASS as usize] = Link {
            prev: last,
            next: first,
        };
        self.links[first as usize].prev = PASS;
        self.links[last as usize].next = PASS;
        self.links[head as usize] = Link {
            prev: head,
            next: head,
        };
    }

    /// The next watcher of the pass: moved to the tail of its kind's list
    /// (so the next pass keeps this order), with its callback lent out for
    /// the call. A watcher stopped, closed or restarted since the pass
    /// began has left the pass's list and does not run; one started since
    /// is at the head of its kind's list and waits for the next pass.
    pub(crate) fn next_in_pass(&mut self) -> Option<(u32, u32, SmallFn, Site)> {
        let node = self.links[PASS as usize].next;
        if node == PASS {
            return None;
        }
        self.unlink(node);
        let i = node - HEADS;
        let slot = &mut self.slots[i as usize];
        let head = slot.kind as u32;
        let cb = slot.cb.take().expect("an active watcher has its callback");
        let (generation, site) = (slot.generation, slot.site);
        let tail = self.links[head as usize].prev;
        self.insert_after(tail, node);
        Some((i, generation, cb, site))
    }

    /// After watcher `i`'s callback returned: puts the callback back if
    /// the watcher is still active and was not given a new one; else hands
    /// it back, to be dropped outside the borrow.
    pub(crate) fn end_call(&mut self, i: u32, generation: u32, cb: SmallFn) -> Option<SmallFn> {
        match self.get_mut(i, generation) {
            Some(slot) if slot.state == Some(State::Active) && slot.cb.is_none() => {
                slot.cb = Some(cb);
                None
            }
            _ => Some(cb),
        }
    }

    /// A pass cut short by a panic leaving the loop: the watchers it did
    /// not reach go back to the tail of their kind's list, where the pass
    /// would have put them.
    pub(crate) fn abandon_pass(&mut self) {
        while let Some(node) = Some(self.links[PASS as usize].next).filter(|&n| n != PASS) {
            self.unlink(node);
            let head = self.slots[(node - HEADS) as usize].kind as u32;
            let tail = self.links[head as usize].prev;
            self.insert_after(tail, node);
        }
    }

    /// Every live watcher, by slot (loop teardown, `walk`).
    pub(crate) fn slots(&self) -> impl Iterator<Item = &Slot> + '_ {
        self.slots.iter().filter(|s| s.state.is_some())
    }

    /// Loop teardown: stops every watcher and hands back the callbacks,
    /// to be dropped outside the borrow.
    pub(crate) fn take_all(&mut self) -> Vec<(SmallFn, Site)> {
        let mut cbs = Vec::new();
        for i in 0..self.slots.len() as u32 {
            if self.slots[i as usize].state == Some(State::Active) {
                let site = self.slots[i as usize].site;
                cbs.extend(self.stop(i, State::Stopped).map(|cb| (cb, site)));
            }
        }
        cbs
    }

    /// Started watchers' callbacks still held (loop teardown's check).
    pub(crate) fn callbacks(&self) -> usize {
        self.slots.iter().filter(|s| s.cb.is_some()).count()
    }

    fn is_empty(&self, head: u32) -> bool {
        self.links[head as usize].next == head
    }

    fn insert_after(&mut self, at: u32, node: u32) {
        let next = self.links[at as usize].next;
        self.links[node as usize] = Link { prev: at, next };
        self.links[at as usize].next = node;
        self.links[next as usize].prev = node;
    }

    fn unlink(&mut self, node: u32) {
        let Link { prev, next } = self.links[node as usize];
        self.links[prev as usize].next = next;
        self.links[next as usize].prev = prev;
        self.links[node as usize] = Link {
            prev: node,
            next: node,
        };
    }
}

//! Node's timer lists, kept beside the wheel so that a late timers phase runs
//! timers in the order Node's `processTimers` does.
//!
//! Node (`lib/internal/timers.js`) keeps one linked list per duration and a
//! priority queue of the lists keyed by `(expiry, id)`: `expiry` is the
//! deadline of the list's first timer, `id` a counter taken when the list is
//! created and again each time a timers pass leaves it with timers that are
//! not yet due. A pass takes the lists in key order and runs *every* due
//! timer of a list before it looks at the next list. On time this is
//! `(deadline, creation)` order, the wheel's own; when the loop is late it
//! is not: a 100 ms list whose first timer was due at 100 runs its timer due
//! at 120 before a 60 ms list's timer due at 110.
//!
//! The wheel keeps the O(1) insert and cancel, and the ready list it builds
//! for a pass is in `(deadline, seq)` order. Each timer also names its list
//! here (an index into `slots`). Before a pass runs, [`Lists::plan`] walks
//! the ready list once: if every list's due timers sit together and lists
//! with the same first deadline come in id order, the wheel's order is
//! Node's and nothing moves (the common case, an on-time loop); otherwise it
//! ranks the lists by `(first due deadline, id)` and the wheel sorts its
//! ready list by rank, stably, so each list keeps its own order.
//!
//! Within a list, `(deadline, seq)` order is Node's list order: every
//! append (a new timer, an interval's re-arm, a `refresh`) takes a new
//! sequence number at a time no earlier than the previous append's, with the
//! same duration.
//!
//! One thing is simplified, and listed in design.md's known differences:
//! Node's list expiry is not updated when the list's first timer is cleared
//! or refreshed (the list keeps the old, earlier expiry until a pass finds
//! it not due); here a list's key is always its first *due* timer's
//! deadline.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// One list: the timers of one duration.
struct List {
    ms: u32,
    /// Node's `list.id`: the tie-break between lists with the same expiry.
    id: u64,
    /// Timers of this duration in the wheel (pending, due, or an interval
    /// whose callback runs). The list is freed when it reaches 0 outside a
    /// pass over it, as Node deletes an emptied list.
    count: u32,
    /// The pass that last saw this list on the ready list (`Lists::pass`).
    mark: u32,
    /// Planned in the running pass and not finished yet: an emptied list
    /// stays until [`Lists::finish_list`], since a callback may add to it.
    unfinished: bool,
    /// In that pass: the deadline of its first due timer, and its index
    /// in first-seen order.
    first_when: u64,
    rank: u32,
}

/// Entries of `Lists::recent`.
const RECENT: usize = 1024;

/// Every list of one loop.
pub(crate) struct Lists {
    by_ms: HashMap<u32, u32, BuildHasherDefault<MsHasher>>,
    /// A direct-mapped cache in front of `by_ms` (slot by `ms % RECENT`),
    /// checked against the slot's `ms` and liveness: most programs use a few
    /// durations, and a lookup here costs a few instructions where hashing
    /// costs tens, on every timer scheduled.
    recent: Box<[u32; RECENT]>,
    slots: Vec<List>,
    free: Vec<u32>,
    next_id: u64,
    /// Counts passes that looked at the lists, to mark the lists seen.
    pass: u32,
    /// The lists of the current pass in the order they run: (slot, id at
    /// planning).
    order: Vec<(u32, u64)>,
    /// Where the running pass is in `order`.
    current: usize,
    /// Scratch for `plan`: each ready timer's rank.
    groups: Vec<u32>,
}

/// Durations are small integers: a multiplicative hash spreads them well,
/// at a fraction of SipHash's cost (a lookup per scheduled timer).
#[derive(Default)]
struct MsHasher(u64);

impl Hasher for MsHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl Lists {
    pub(crate) fn new() -> Lists {
        Lists {
            by_ms: HashMap::default(),
            recent: Box::new([u32::MAX; RECENT]),
            slots: Vec::new(),
            free: Vec::new(),
            next_id: 0,
            pass: 0,
            order: Vec::new(),
            current: 0,
            groups: Vec::new(),
        }
    }

    /// Adds a timer of `ms` to its list, creating the list (with a new id)
    /// if there is none; returns the list's slot.
    #[inline]
    pub(crate) fn attach(&mut self, ms: u32) -> u32 {
        let hint = self.recent[ms as usize % RECENT] as usize;
        if let Some(list) = self.slots.get_mut(hint)
            && list.ms == ms
            && list.id != 0
        {
            list.count += 1;
            return hint as u32;
        }
        if let Some(&slot) = self.by_ms.get(&ms) {
            self.slots[slot as usize].count += 1;
            self.recent[ms as usize % RECENT] = slot;
            return slot;
        }
        let list = List {
            ms,
            id: self.take_id(),
            count: 1,
            mark: 0,
            unfinished: false,
            first_when: 0,
            rank: 0,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = list;
                slot
            }
            None => {
                self.slots.push(list);
                (self.slots.len() - 1) as u32
            }
        };
        self.by_ms.insert(ms, slot);
        self.recent[ms as usize % RECENT] = slot;
        slot
    }

    /// Takes a cleared timer off its list. An emptied list is deleted at
    /// once, as Node's `unenroll` does, even one the running pass has yet to
    /// finish (a timer created later gets a new list, with a new id).
    #[inline]
    pub(crate) fn detach(&mut self, slot: u32) {
        let list = &mut self.slots[slot as usize];
        list.count -= 1;
        if list.count == 0 {
            self.delete(slot);
        }
    }

    /// Takes a timer that is about to run off its list. As in Node's
    /// `listOnTimeout`, an emptied list stays until the pass finishes it
    /// ([`Lists::finish_list`]): the callback may add a timer to it.
    #[inline]
    pub(crate) fn detach_fired(&mut self, slot: u32) {
        let list = &mut self.slots[slot as usize];
        list.count -= 1;
        if list.count == 0 && !list.unfinished {
            self.delete(slot);
        }
    }

    /// The duration of the list at `slot`.
    #[inline]
    pub(crate) fn ms(&self, slot: u32) -> u32 {
        self.slots[slot as usize].ms
    }

    fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn delete(&mut self, slot: u32) {
        let list = &mut self.slots[slot as usize];
        // Ids start at 1: 0 marks a deleted list, which a planned pass
        // then skips.
        list.id = 0;
        list.unfinished = false;
        self.by_ms.remove(&list.ms);
        self.free.push(slot);
    }

    /// Plans a pass over the ready timers, given as `(list slot, deadline)`
    /// in the wheel's `(deadline, seq)` order. Returns `None` when that order
    /// is already Node's; otherwise the rank of each ready timer, in the same
    /// order, by which the wheel must reorder them (stably).
    pub(crate) fn plan(&mut self, ready: impl Iterator<Item = (u32, u64)>) -> Option<&[u32]> {
        // Lists a panic left unfinished are finished first.
        self.end_pass();
        self.pass = self.pass.wrapping_add(1);
        if self.pass == 0 {
            // After 2^32 passes a list's old mark could pass for this one's.
            for list in &mut self.slots {
                list.mark = 0;
            }
            self.pass = 1;
        }
        self.groups.clear();
        let mut prev: Option<u32> = None;
        let mut split = false;
        let mut tie = false;
        for (slot, when) in ready {
            if prev != Some(slot) {
                let list = &mut self.slots[slot as usize];
                if list.mark == self.pass {
                    // Its due timers are split by another list's: Node runs
                    // them together.
                    split = true;
                } else {
                    list.mark = self.pass;
                    list.unfinished = true;
                    list.first_when = when;
                    list.rank = self.order.len() as u32;
                    let id = list.id;
                    if let Some(p) = prev {
                        let p = &self.slots[p as usize];
                        tie |= p.first_when == when && p.id > id;
                    }
                    self.order.push((slot, id));
                }
                prev = Some(slot);
            }
            // The list's index in first-seen order, its rank unless a tie
            // below moves it.
            self.groups.push(self.slots[slot as usize].rank);
        }
        if !split && !tie {
            return None;
        }
        if tie {
            self.break_ties();
        }
        Some(&self.groups)
    }

    /// Orders the planned lists by (first due deadline, id) and ranks the
    /// ready timers by it. First-seen order is already by first due deadline
    /// (the wheel's order is by deadline), so only runs of lists with the
    /// same first deadline are sorted, by id.
    #[cold]
    fn break_ties(&mut self) {
        let slots = &self.slots;
        let when = |&(s, _): &(u32, u64)| slots[s as usize].first_when;
        let mut rank_of: Vec<u32> = (0..self.order.len() as u32).collect();
        let mut start = 0;
        while start < self.order.len() {
            let w = when(&self.order[start]);
            let end = start
                + self.order[start..]
                    .iter()
                    .take_while(|g| when(g) == w)
                    .count();
            if end - start > 1 {
                self.order[start..end].sort_unstable_by_key(|&(_, id)| id);
            }
            start = end;
        }
        for (rank, &(s, _)) in self.order.iter().enumerate() {
            rank_of[slots[s as usize].rank as usize] = rank as u32;
        }
        for g in &mut self.groups {
            *g = rank_of[*g as usize];
        }
    }

    /// Called as the pass moves from one list to the next, and at its end:
    /// the list it left is deleted if it ran empty, and otherwise takes a
    /// new id, as Node's `listOnTimeout` does when it finds the list's next
    /// timer not yet due.
    pub(crate) fn finish_list(&mut self) {
        let Some(&(slot, id)) = self.order.get(self.current) else {
            return;
        };
        self.current += 1;
        if self.slots[slot as usize].id != id {
            return; // deleted by a clear during the pass (maybe reused)
        }
        self.slots[slot as usize].unfinished = false;
        if self.slots[slot as usize].count == 0 {
            self.delete(slot);
        } else {
            let id = self.take_id();
            self.slots[slot as usize].id = id;
        }
    }

    /// The slot of the list the pass is running (for the pass to notice
    /// when it moves on).
    pub(crate) fn current(&self) -> Option<u32> {
        self.order.get(self.current).map(|&(s, _)| s)
    }

    /// Ends the pass: finishes every list not finished yet (a panic that
    /// left the pass, or lists whose due timers were all cleared).
    pub(crate) fn end_pass(&mut self) {
        while self.current < self.order.len() {
            self.finish_list();
        }
        self.order.clear();
        self.current = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The late-loop case of Node's docs: the 100 ms list (first due 100)
    /// runs whole, its timer due 120 too, before the 60 ms list (due 110).
    #[test]
    fn a_late_pass_runs_each_list_whole_by_first_deadline() {
        let mut lists = Lists::new();
        let l100 = lists.attach(100);
        let l60 = lists.attach(60);
        assert_eq!(lists.attach(100), l100, "one list per duration");
        // Ready in (deadline, seq) order: A (100), B (110), C (120).
        let ready = [(l100, 100), (l60, 110), (l100, 120)];
        let ranks = lists
            .plan(ready.into_iter())
            .expect("not Node's order")
            .to_vec();
        assert_eq!(ranks, [0, 1, 0], "B goes after both of the 100 ms list");
        lists.end_pass();
    }

    /// On time, lists due at the same millisecond go by id: a list given a
    /// new id by the last pass comes after one made before that pass.
    #[test]
    fn equal_deadlines_go_by_list_id() {
        let mut lists = Lists::new();
        let older = lists.attach(4);
        lists.attach(4);
        let newer = lists.attach(3);
        assert!(lists.plan([(older, 4)].into_iter()).is_none());
        lists.detach_fired(older);
        lists.finish_list(); // a timer left: a new id, newer than `newer`'s
        lists.end_pass();
        // `older` holds a timer created before `newer`'s, due at the same
        // time: the wheel has it first, Node runs `newer` first.
        let ranks = lists
            .plan([(older, 5), (newer, 5)].into_iter())
            .map(<[u32]>::to_vec);
        assert_eq!(ranks, Some(vec![1, 0]));
        lists.end_pass();
    }

    /// After 2^32 passes the marks start again rather than alias.
    #[test]
    fn the_pass_counter_wraps_without_aliasing_marks() {
        let mut lists = Lists::new();
        let a = lists.attach(1);
        let b = lists.attach(2);
        lists.pass = u32::MAX - 1;
        assert!(lists.plan([(a, 1), (b, 2)].into_iter()).is_none());
        lists.end_pass();
        assert!(lists.plan([(a, 1), (b, 2)].into_iter()).is_none());
        lists.end_pass();
        assert_eq!(lists.pass, 1);
        assert!(lists.plan([(a, 1), (b, 2)].into_iter()).is_none());
    }
}

//! A hierarchical timing wheel with intrusive lists, after tokio's
//! `runtime/time/wheel`.
//!
//! Six levels of 64 slots; a slot of level `l` spans `64^l` ticks (one tick is
//! one millisecond), so the wheel covers `64^6 = 2^36` ticks (about 2.2 years),
//! far more than Node's largest delay of `2^31 - 1` ms. Each level keeps a
//! 64-bit occupancy mask, so finding the next non-empty slot is a rotate and a
//! `trailing_zeros`, and every list is doubly linked through indices into one
//! arena, so insert and cancel are O(1) and nothing allocates once the arena
//! has grown.
//!
//! Entries of level 0 all expire at their slot's exact tick. When a slot of a
//! higher level comes due its entries are *cascaded* into lower levels. Level-0
//! slots are kept sorted by sequence number, which makes the ready list come
//! out in `(deadline, seq)` order: Node's observable timer order.
//!
//! Expired entries are moved to a separate *ready* list by [`Wheel::advance`]
//! before any of them runs (libuv ≥ 1.48 does the same), so a timer inserted
//! while the ready list is being consumed can never run in the same pass, and
//! a ready entry can still be cancelled.

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// One past the largest tick distance the wheel can represent.
const MAX_SPAN: u64 = 1 << (SLOT_BITS as u64 * LEVELS as u64);

/// Index sentinel: "no entry".
const NIL: u32 = u32::MAX;

/// Where an entry lives, stored in `Entry::level` (0..LEVELS: in the wheel,
/// or on the ready list if it is a level-0 entry with `when <= elapsed`).
const DETACHED: u8 = 0xFE;
const FREE: u8 = 0xFF;

/// Stable name for an entry: arena index plus generation, so a stale key
/// (entry removed, slot reused) is recognised and ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

impl List {
    const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };
}

struct Entry<T> {
    when: u64,
    seq: u64,
    prev: u32,
    next: u32,
    generation: u32,
    level: u8,
    slot: u8,
    payload: Option<T>,
}

struct Level {
    occupied: u64,
    slots: [List; SLOTS],
}

/// The wheel. `T` is the payload (the loop stores the callback there; the
/// property tests store plain numbers).
pub(crate) struct Wheel<T> {
    entries: Vec<Entry<T>>,
    free: u32,
    len: usize,
    /// Ticks processed so far: every entry in the wheel has `when > elapsed`;
    /// level-0 entries with `when <= elapsed` are on the ready list.
    elapsed: u64,
    levels: Box<[Level; LEVELS]>,
    ready: List,
    next_gen: u32,
}

impl<T> Wheel<T> {
    pub(crate) fn new() -> Self {
        Wheel {
            entries: Vec::new(),
            free: NIL,
            len: 0,
            elapsed: 0,
            levels: Box::new(std::array::from_fn(|_| Level {
                occupied: 0,
                slots: [List::EMPTY; SLOTS],
            })),
            ready: List::EMPTY,
            next_gen: 0,
        }
    }

    /// Live entries: in the wheel, on the ready list or detached.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds an entry due at tick `when` with tie-break `seq` (must be larger
    /// than every seq inserted before for the order guarantee to hold).
    /// A `when` at or before `elapsed` is treated as `elapsed + 1`: a new
    /// entry is never due in a pass that has already been collected.
    pub(crate) fn insert(&mut self, when: u64, seq: u64, payload: T) -> Key {
        let generation = self.next_gen;
        self.next_gen = self.next_gen.wrapping_add(1);
        let entry = Entry {
            when: 0,
            seq,
            prev: NIL,
            next: NIL,
            generation,
            level: DETACHED,
            slot: 0,
            payload: Some(payload),
        };
        let index = if self.free != NIL {
            let index = self.free;
            self.free = self.entries[index as usize].next;
            self.entries[index as usize] = entry;
            index
        } else {
            let index = u32::try_from(self.entries.len()).expect("more than 2^32 timers");
            assert!(index != NIL, "more than 2^32 - 1 timers");
            self.entries.push(entry);
            index
        };
        self.len += 1;
        self.schedule(index, when);
        Key { index, generation }
    }

    fn live(&self, key: Key) -> bool {
        self.entries
            .get(key.index as usize)
            .is_some_and(|e| e.generation == key.generation && e.level != FREE)
    }

    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        if !self.live(key) {
            return None;
        }
        self.entries[key.index as usize].payload.as_ref()
    }

    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        if !self.live(key) {
            return None;
        }
        self.entries[key.index as usize].payload.as_mut()
    }

    /// Whether the entry is waiting in the wheel or on the ready list (as
    /// opposed to detached by [`Wheel::pop_ready`]).
    pub(crate) fn is_scheduled(&self, key: Key) -> bool {
        self.live(key) && self.entries[key.index as usize].level != DETACHED
    }

    /// Removes an entry wherever it is; `None` for a stale key.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        if !self.live(key) {
            return None;
        }
        self.unlink(key.index);
        let e = &mut self.entries[key.index as usize];
        e.level = FREE;
        e.generation = e.generation.wrapping_add(1);
        e.next = self.free;
        self.free = key.index;
        self.len -= 1;
        e.payload.take()
    }

    /// Moves a live entry to a new deadline and sequence number.
    pub(crate) fn reschedule(&mut self, key: Key, when: u64, seq: u64) -> bool {
        if !self.live(key) {
            return false;
        }
        self.unlink(key.index);
        self.entries[key.index as usize].seq = seq;
        self.schedule(key.index, when);
        true
    }

    /// Collects every entry with `when <= now` onto the ready list, in
    /// `(when, seq)` order, after any entries already there.
    pub(crate) fn advance(&mut self, now: u64) {
        while let Some((level, slot, deadline)) = self.next_expiration() {
            if deadline > now {
                break;
            }
            self.elapsed = deadline;
            let list = std::mem::replace(&mut self.levels[level].slots[slot], List::EMPTY);
            self.levels[level].occupied &= !(1u64 << slot);
            if level == 0 {
                // Every entry of a level-0 slot is due at `deadline` and the
                // list is sorted by seq: splice it whole. Its entries keep
                // `level == 0`; `when <= elapsed` tells they are now ready.
                self.splice_ready(list);
                continue;
            }
            let mut index = list.head;
            while index != NIL {
                let next = self.entries[index as usize].next;
                let when = self.entries[index as usize].when;
                self.link(index, when);
                index = next;
            }
        }
        if now > self.elapsed {
            self.elapsed = now;
        }
    }

    /// Takes the first ready entry off the ready list. The entry stays alive
    /// (detached) until it is removed or rescheduled.
    pub(crate) fn pop_ready(&mut self) -> Option<Key> {
        let index = self.ready.head;
        if index == NIL {
            return None;
        }
        self.unlink(index);
        let e = &mut self.entries[index as usize];
        e.level = DETACHED;
        Some(Key {
            index,
            generation: e.generation,
        })
    }

    /// The earliest tick at which [`Wheel::advance`] may find work; `None` if
    /// the wheel holds no scheduled entry. For a higher level this is the
    /// start of its slot (a cascade point), which is never later than the
    /// entries in it.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        if self.ready.head != NIL {
            return Some(self.elapsed);
        }
        self.next_expiration().map(|(_, _, deadline)| deadline)
    }

    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        (0..LEVELS).find_map(|level| {
            let l = &self.levels[level];
            if l.occupied == 0 {
                return None;
            }
            let slot_range = slot_range(level);
            let level_range = slot_range * SLOTS as u64;
            let now_slot = (self.elapsed / slot_range) % SLOTS as u64;
            let rotated = l.occupied.rotate_right(now_slot as u32);
            let slot = (rotated.trailing_zeros() as u64 + now_slot) % SLOTS as u64;
            let level_start = self.elapsed & !(level_range - 1);
            let mut deadline = level_start + slot * slot_range;
            if deadline < self.elapsed {
                // Only the top level wraps: its slots behind "now" belong to
                // the next rotation.
                debug_assert_eq!(level, LEVELS - 1);
                deadline += level_range;
            }
            Some((level, slot as usize, deadline))
        })
    }

    fn schedule(&mut self, index: u32, when: u64) {
        let when = when.max(self.elapsed + 1);
        self.link(index, when);
    }

    /// Puts a detached entry into the slot that `when` maps to.
    fn link(&mut self, index: u32, when: u64) {
        let level = level_for(self.elapsed, when);
        let slot = ((when >> (level as u32 * SLOT_BITS)) % SLOTS as u64) as usize;
        {
            let e = &mut self.entries[index as usize];
            e.when = when;
            e.level = level as u8;
            e.slot = slot as u8;
        }
        let seq = self.entries[index as usize].seq;
        let mut list = self.levels[level].slots[slot];
        // Level-0 slots stay sorted by seq: walk back from the tail past any
        // newer entries (none in the common case: inserts come in seq order).
        let mut after = list.tail;
        if level == 0 {
            while after != NIL && self.entries[after as usize].seq > seq {
                after = self.entries[after as usize].prev;
            }
        }
        self.insert_after(&mut list, after, index);
        self.levels[level].slots[slot] = list;
        self.levels[level].occupied |= 1u64 << slot;
    }

    fn splice_ready(&mut self, list: List) {
        if self.ready.tail == NIL {
            self.ready = list;
        } else {
            self.entries[self.ready.tail as usize].next = list.head;
            self.entries[list.head as usize].prev = self.ready.tail;
            self.ready.tail = list.tail;
        }
    }

    /// Inserts `index` after `after` (`NIL`: at the head).
    fn insert_after(&mut self, list: &mut List, after: u32, index: u32) {
        let next = if after == NIL {
            list.head
        } else {
            self.entries[after as usize].next
        };
        {
            let e = &mut self.entries[index as usize];
            e.prev = after;
            e.next = next;
        }
        if after == NIL {
            list.head = index;
        } else {
            self.entries[after as usize].next = index;
        }
        if next == NIL {
            list.tail = index;
        } else {
            self.entries[next as usize].prev = index;
        }
    }

    /// Takes an entry out of whatever list holds it; it becomes detached.
    fn unlink(&mut self, index: u32) {
        let (prev, next, level, slot) = {
            let e = &self.entries[index as usize];
            (e.prev, e.next, e.level, e.slot as usize)
        };
        let ready = level == 0 && self.entries[index as usize].when <= self.elapsed;
        let list: &mut List = match level {
            DETACHED => return,
            _ if ready => &mut self.ready,
            l => &mut self.levels[l as usize].slots[slot],
        };
        if prev == NIL {
            list.head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            list.tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        if !ready && self.levels[level as usize].slots[slot].head == NIL {
            self.levels[level as usize].occupied &= !(1u64 << slot);
        }
        let e = &mut self.entries[index as usize];
        e.prev = NIL;
        e.next = NIL;
        e.level = DETACHED;
    }
}

fn slot_range(level: usize) -> u64 {
    1u64 << (level as u32 * SLOT_BITS)
}

/// The level whose slots distinguish `elapsed` from `when`: the highest
/// 6-bit group in which they differ.
fn level_for(elapsed: u64, when: u64) -> usize {
    let mut masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    if masked >= MAX_SPAN {
        masked = MAX_SPAN - 1;
    }
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

/// Bytes the wheel keeps per pending entry, excluding the payload's heap.
#[cfg(test)]
pub(crate) fn entry_size<T>() -> usize {
    std::mem::size_of::<Entry<T>>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn drain(w: &mut Wheel<u64>) -> Vec<u64> {
        let mut out = Vec::new();
        while let Some(k) = w.pop_ready() {
            out.push(w.remove(k).unwrap());
        }
        out
    }

    #[test]
    fn fires_in_deadline_then_seq_order() {
        let mut w = Wheel::new();
        // id == seq; deadlines out of order, including cascades from level 1.
        for (seq, when) in [(0, 100u64), (1, 5), (2, 100), (3, 64), (4, 5)] {
            w.insert(when, seq, seq);
        }
        w.advance(4);
        assert!(drain(&mut w).is_empty());
        w.advance(5);
        assert_eq!(drain(&mut w), vec![1, 4]);
        // An entry cascaded from level 1 and one inserted later at level 0
        // with the same deadline keep creation order.
        w.insert(100, 5, 5);
        w.advance(1000);
        assert_eq!(drain(&mut w), vec![3, 0, 2, 5]);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn cancel_is_o1_and_stale_keys_are_ignored() {
        let mut w = Wheel::new();
        let a = w.insert(10, 0, 0);
        let b = w.insert(10, 1, 1);
        assert_eq!(w.remove(a), Some(0));
        assert_eq!(w.remove(a), None);
        let c = w.insert(10, 2, 2); // reuses a's slot with a new generation
        assert_eq!(c.index, a.index);
        assert_eq!(w.remove(a), None);
        assert!(w.get(c).is_some());
        w.advance(10);
        assert_eq!(drain(&mut w), vec![1, 2]);
        assert_eq!(w.remove(b), None);
    }

    #[test]
    fn max_delay_and_beyond_cascade_down() {
        let mut w = Wheel::new();
        let far = (1u64 << 31) - 1;
        w.insert(far, 0, 0);
        w.insert(MAX_SPAN - 1, 1, 1);
        assert_eq!(w.next_deadline().map(|d| d <= far), Some(true));
        w.advance(far - 1);
        assert!(drain(&mut w).is_empty());
        w.advance(far);
        assert_eq!(drain(&mut w), vec![0]);
        w.advance(MAX_SPAN - 2);
        assert!(drain(&mut w).is_empty());
        w.advance(MAX_SPAN - 1);
        assert_eq!(drain(&mut w), vec![1]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64),
        Cancel(usize),
        Advance(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => prop_oneof![0u64..70, 0u64..5000, 0u64..300_000, 0u64..(1u64 << 31)].prop_map(Op::Insert),
            2 => any::<usize>().prop_map(Op::Cancel),
            3 => prop_oneof![0u64..3, 0u64..100, 0u64..10_000, 0u64..(1u64 << 31)].prop_map(Op::Advance),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// The wheel against a BTreeMap of (deadline, seq): the same entries
        /// fire, in the same order, never early, never twice.
        #[test]
        fn matches_btreemap_model(ops in proptest::collection::vec(op(), 1..200)) {
            let mut w = Wheel::new();
            let mut model: BTreeMap<(u64, u64), Key> = BTreeMap::new();
            let mut keys: Vec<(Key, u64, u64)> = Vec::new();
            let mut now = 0u64;
            let mut seq = 0u64;
            for op in ops {
                match op {
                    Op::Insert(delay) => {
                        let when = now + delay.max(1);
                        let k = w.insert(when, seq, seq);
                        model.insert((when, seq), k);
                        keys.push((k, when, seq));
                        seq += 1;
                    }
                    Op::Cancel(i) if !keys.is_empty() => {
                        let (k, when, s) = keys[i % keys.len()];
                        let removed = w.remove(k);
                        prop_assert_eq!(removed.is_some(), model.remove(&(when, s)).is_some());
                    }
                    Op::Cancel(_) => {}
                    Op::Advance(by) => {
                        now += by;
                        w.advance(now);
                        let fired = drain(&mut w);
                        let due: Vec<u64> = model.range(..(now + 1, 0)).map(|(&(_, s), _)| s).collect();
                        model.retain(|&(when, _), _| when > now);
                        prop_assert_eq!(fired, due);
                        if let Some(d) = w.next_deadline() {
                            let first = model.keys().next().map(|&(when, _)| when);
                            prop_assert!(first.is_some_and(|f| d <= f && d > now));
                        } else {
                            prop_assert!(model.is_empty());
                        }
                    }
                }
            }
            prop_assert_eq!(w.len(), model.len());
        }
    }
}

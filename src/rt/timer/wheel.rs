//! A hierarchical timing wheel, after tokio's `runtime/time/wheel`.
//!
//! Six levels of 64 slots; a slot of level `l` spans `64^l` ticks (one tick is
//! one millisecond), so the wheel covers `64^6 = 2^36` ticks (about 2.2 years),
//! far more than Node's largest delay of `2^31 - 1` ms. Each level keeps a
//! 64-bit occupancy mask, so finding the next non-empty slot is a rotate and a
//! `trailing_zeros`.
//!
//! Entries live in one arena with a free list. A slot is a vector of arena
//! indices and each entry remembers its position in it, so insert and cancel
//! are O(1) (a `swap_remove`, or a tombstone where order matters). An emptied
//! slot keeps its vector for the next turn if it is small (up to 256 indices)
//! and frees a larger one, so the wheel's memory follows the timers pending
//! rather than the largest burst each slot ever saw (a busier slot regrows
//! its vector each turn: a few reallocations for hundreds of inserts).
//! Walking a slot is a sequential scan
//! of indices, which lets the loop prefetch the entries a few steps ahead:
//! with a million timers the arena is far larger than the caches, and that is
//! where the time would otherwise go.
//!
//! Entries of level 0 all expire at their slot's exact tick. When a slot of a
//! higher level comes due its entries are *cascaded* into lower levels. A
//! level-0 slot keeps insertion order, and is sorted by sequence number when
//! it comes due if a cascaded (older) entry arrived after a newer one, so the
//! ready list comes out in `(deadline, seq)` order: Node's timer order.
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

/// A slot's vector is kept for reuse when it empties if it holds at most
/// this many indices (1 KiB); a larger one is freed, so that the memory the
/// wheel holds follows the timers pending rather than the largest burst each
/// of its 384 slots ever saw.
const KEEP_CAPACITY: usize = 256;

/// Index sentinel: "no entry" (also a tombstone in ordered vectors).
const NIL: u32 = u32::MAX;

/// Where an entry lives, stored in `Entry::level`: `0..LEVELS` in a wheel
/// slot, or one of these.
const READY: u8 = 0xFD;
const DETACHED: u8 = 0xFE;
const FREE: u8 = 0xFF;

/// How many entries ahead the cascade and ready loops prefetch: enough to
/// keep several cache misses in flight.
const PREFETCH_AHEAD: usize = 8;

/// Stable name for an entry: arena index plus generation, so a stale key
/// (entry removed, slot reused) is recognised and ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

struct Entry<T> {
    when: u64,
    seq: u64,
    /// Position in the vector that holds it (a slot or the ready list); for a
    /// free entry, the next free index.
    pos: u32,
    generation: u32,
    level: u8,
    slot: u8,
    payload: Option<T>,
}

struct Level {
    occupied: u64,
    /// Arena indices. Level-0 slots keep insertion order and use tombstones
    /// (`NIL`) on cancel; higher levels are unordered and `swap_remove`.
    slots: [Vec<u32>; SLOTS],
    /// Levels above 0: the earliest `when` put in each slot since it was last
    /// emptied, so the loop can sleep until a real deadline rather than the
    /// slot's cascade point. Cancels may leave it early (never late), which
    /// costs at most one early wake-up.
    min_when: [u64; SLOTS],
}

/// The wheel. `T` is the payload (the loop stores the callback there; the
/// property tests store plain numbers).
pub(crate) struct Wheel<T> {
    entries: Vec<Entry<T>>,
    free: u32,
    len: usize,
    /// Ticks processed so far: every entry in the wheel has `when > elapsed`.
    elapsed: u64,
    levels: Box<[Level; LEVELS]>,
    /// Level-0 slots whose vector is not in seq order (a cascaded entry
    /// arrived after a newer direct insert): sorted when they come due.
    unsorted: u64,
    /// Due entries in (deadline, seq) order, consumed from `ready_head`;
    /// cancelled ones become tombstones.
    ready: Vec<u32>,
    ready_head: usize,
    /// Scratch for `reorder_ready`.
    reorder: Vec<u32>,
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
                slots: std::array::from_fn(|_| Vec::new()),
                min_when: [u64::MAX; SLOTS],
            })),
            unsorted: 0,
            ready: Vec::new(),
            ready_head: 0,
            reorder: Vec::new(),
            next_gen: 0,
        }
    }

    /// Live entries: in the wheel, on the ready list or detached.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every live entry's payload, the wheel consumed.
    pub(crate) fn into_payloads(self) -> impl Iterator<Item = T> {
        self.entries.into_iter().filter_map(|e| e.payload)
    }

    /// Every live entry: `(key, when, seq, payload)`, in no particular
    /// order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Key, u64, u64, &T)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.level != FREE)
            .filter_map(|(i, e)| {
                let key = Key {
                    index: i as u32,
                    generation: e.generation,
                };
                Some((key, e.when, e.seq, e.payload.as_ref()?))
            })
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
            pos: NIL,
            generation,
            level: DETACHED,
            slot: 0,
            payload: Some(payload),
        };
        let index = if self.free != NIL {
            let index = self.free;
            self.free = self.entries[index as usize].pos;
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

    /// The deadline of an entry waiting in the wheel or on the ready list.
    pub(crate) fn when(&self, key: Key) -> Option<u64> {
        self.is_scheduled(key)
            .then(|| self.entries[key.index as usize].when)
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
        e.pos = self.free;
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
            // The slot's own vector is taken out while it is processed and
            // put back empty (or freed if large: `release`). Cascading never
            // links back into this slot: its entries are due within its span,
            // which a lower level covers once `elapsed` is its start.
            let mut items = std::mem::take(&mut self.levels[level].slots[slot]);
            self.levels[level].occupied &= !(1u64 << slot);
            self.levels[level].min_when[slot] = u64::MAX;
            if level == 0 {
                // Every entry of a level-0 slot is due at `deadline`.
                if self.unsorted & (1u64 << slot) != 0 {
                    self.unsorted &= !(1u64 << slot);
                    let entries = &self.entries;
                    items.retain(|&i| i != NIL);
                    items.sort_unstable_by_key(|&i| entries[i as usize].seq);
                }
                for j in 0..items.len() {
                    self.prefetch(items.get(j + PREFETCH_AHEAD).copied());
                    let index = items[j];
                    if index != NIL {
                        let e = &mut self.entries[index as usize];
                        e.level = READY;
                        e.pos = self.ready.len() as u32;
                        self.ready.push(index);
                    }
                }
            } else {
                for j in 0..items.len() {
                    self.prefetch(items.get(j + PREFETCH_AHEAD).copied());
                    let index = items[j];
                    let when = self.entries[index as usize].when;
                    self.link(index, when);
                }
            }
            items.clear();
            release(&mut items);
            debug_assert!(self.levels[level].slots[slot].is_empty());
            self.levels[level].slots[slot] = items;
        }
        if now > self.elapsed {
            self.elapsed = now;
        }
    }

    /// Takes the first ready entry off the ready list. The entry stays alive
    /// (detached) until it is removed or rescheduled.
    pub(crate) fn pop_ready(&mut self) -> Option<Key> {
        while let Some(&index) = self.ready.get(self.ready_head) {
            self.ready_head += 1;
            if index != NIL {
                self.prefetch(self.ready.get(self.ready_head + PREFETCH_AHEAD).copied());
                let e = &mut self.entries[index as usize];
                e.level = DETACHED;
                return Some(Key {
                    index,
                    generation: e.generation,
                });
            }
        }
        self.ready.clear();
        self.ready_head = 0;
        None
    }

    /// The entries on the ready list not popped yet, in order, as
    /// `(when, payload)`.
    pub(crate) fn ready(&self) -> impl Iterator<Item = (u64, &T)> {
        self.ready[self.ready_head..]
            .iter()
            .filter(|&&i| i != NIL)
            .filter_map(|&i| {
                let e = &self.entries[i as usize];
                Some((e.when, e.payload.as_ref()?))
            })
    }

    /// Reorders the entries on the ready list not popped yet, stably, by
    /// rank: `ranks[j]` is the rank of the `j`-th of them (as [`Wheel::ready`]
    /// yields them), each below `ranks.len()`. A counting sort: O(entries).
    pub(crate) fn reorder_ready(&mut self, ranks: &[u32]) {
        let mut items = std::mem::take(&mut self.reorder);
        items.clear();
        items.extend(self.ready[self.ready_head..].iter().filter(|&&i| i != NIL));
        debug_assert_eq!(items.len(), ranks.len());
        // Where each rank's run starts.
        let mut start = vec![0u32; ranks.len() + 1];
        for &r in ranks {
            start[r as usize + 1] += 1;
        }
        for r in 1..start.len() {
            start[r] += start[r - 1];
        }
        self.ready.clear();
        self.ready.resize(items.len(), NIL);
        self.ready_head = 0;
        for (&i, &r) in items.iter().zip(ranks) {
            let pos = start[r as usize];
            start[r as usize] += 1;
            self.ready[pos as usize] = i;
            self.entries[i as usize].pos = pos;
        }
        items.clear();
        release(&mut items);
        self.reorder = items;
    }

    /// The payload of the ready entry `ahead` places after the next one to
    /// pop, if there is one (for prefetching what it points to).
    pub(crate) fn peek_ready(&self, ahead: usize) -> Option<&T> {
        let index = *self.ready.get(self.ready_head + ahead)?;
        if index == NIL {
            return None;
        }
        self.entries[index as usize].payload.as_ref()
    }

    fn prefetch(&self, index: Option<u32>) {
        if let Some(e) = index.and_then(|i| self.entries.get(i as usize)) {
            crate::rt::prefetch::prefetch(e);
        }
    }

    /// The earliest tick at which an entry may be due; `None` if the wheel
    /// holds no scheduled entry. Exact unless the earliest entry of a higher
    /// slot was cancelled (then earlier, never later). The first occupied slot
    /// of the lowest occupied level always holds the earliest entry: lower
    /// levels cover times before the next slot of any higher level.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        if self.ready_head < self.ready.len() {
            return Some(self.elapsed);
        }
        let (level, slot, deadline) = self.next_expiration()?;
        if level == 0 {
            return Some(deadline);
        }
        Some(deadline.max(self.levels[level].min_when[slot]))
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
        let seq = self.entries[index as usize].seq;
        let items = &mut self.levels[level].slots[slot];
        if level == 0
            && let Some(&tail) = items.last()
            && self.entries[tail as usize].seq > seq
        {
            self.unsorted |= 1u64 << slot;
        }
        let pos = items.len() as u32;
        items.push(index);
        let l = &mut self.levels[level];
        l.occupied |= 1u64 << slot;
        if level > 0 {
            l.min_when[slot] = l.min_when[slot].min(when);
        }
        let e = &mut self.entries[index as usize];
        e.when = when;
        e.level = level as u8;
        e.slot = slot as u8;
        e.pos = pos;
    }

    /// Takes an entry out of whatever holds it; it becomes detached.
    fn unlink(&mut self, index: u32) {
        let (pos, level, slot) = {
            let e = &self.entries[index as usize];
            (e.pos as usize, e.level, e.slot as usize)
        };
        match level {
            DETACHED => return,
            READY => self.ready[pos] = NIL,
            0 => {
                // Keep the order: leave a tombstone, trim trailing ones.
                let items = &mut self.levels[0].slots[slot];
                items[pos] = NIL;
                while items.last() == Some(&NIL) {
                    items.pop();
                }
                if items.is_empty() {
                    release(items);
                    self.levels[0].occupied &= !(1u64 << slot);
                    self.unsorted &= !(1u64 << slot);
                }
            }
            l => {
                let items = &mut self.levels[l as usize].slots[slot];
                items.swap_remove(pos);
                if let Some(&moved) = items.get(pos) {
                    self.entries[moved as usize].pos = pos as u32;
                } else if items.is_empty() {
                    release(items);
                    self.levels[l as usize].occupied &= !(1u64 << slot);
                    self.levels[l as usize].min_when[slot] = u64::MAX;
                }
            }
        }
        self.entries[index as usize].level = DETACHED;
    }
}

/// Frees an emptied slot vector that is larger than [`KEEP_CAPACITY`].
fn release(items: &mut Vec<u32>) {
    debug_assert!(items.is_empty());
    if items.capacity() > KEEP_CAPACITY {
        *items = Vec::new();
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

#[cfg(test)]
impl<T> Wheel<T> {
    /// Index slots held by every vector of the wheel (its memory besides the
    /// arena), used or not.
    fn held_capacity(&self) -> usize {
        let slots: usize = self
            .levels
            .iter()
            .flat_map(|l| l.slots.iter())
            .map(Vec::capacity)
            .sum();
        slots + self.ready.capacity()
    }
}

/// Bytes the wheel keeps per pending entry, excluding the payload's heap.
#[cfg(test)]
pub(crate) fn entry_size<T>() -> usize {
    std::mem::size_of::<Entry<T>>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_prop::Rng;
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

    /// The memory the wheel holds follows what is pending, not the history
    /// of bursts. Found by the soak test (`tests/soak.rs`): slot vectors
    /// were swapped with one shared buffer as they came due, so large
    /// vectors wandered from slot to slot and were grown again in each
    /// slot's next burst; with 10,000 timers re-armed as they fired, the
    /// live heap grew by about 250 KiB a second all through a 6 s run.
    #[test]
    fn repeated_bursts_do_not_grow_memory() {
        const N: u64 = 1000;
        let mut w = Wheel::new();
        let mut seq = 0;
        // Forty rotations of level 1 (64 * 64 ms each); in each, N entries
        // due within one level-1 slot, which cascade into the 64 level-0
        // slots, then all of them fire.
        for round in 0..40u64 {
            let base = round * 4096;
            for i in 0..N {
                w.insert(base + 64 + i % 64, seq, seq);
                seq += 1;
            }
            w.advance(base + 4095);
            assert_eq!(drain(&mut w).len(), N as usize);
        }
        // One level-1 slot and the ready list of N entries each, plus the
        // level-0 slots (N / 64 each): about 3 * N with doubling.
        let held = w.held_capacity();
        assert!(
            held <= 4 * N as usize,
            "the wheel holds {held} index slots for bursts of {N}"
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64),
        Cancel(usize),
        /// Advance, then cancel the due entries picked by the mask (of the
        /// first eight) before draining the rest.
        Advance(u64, u8),
    }

    /// Delays and steps from each level's range, so every level of the
    /// wheel (and its boundaries) is exercised, not only the largest.
    fn op(rng: &mut Rng) -> Op {
        fn up_to(rng: &mut Rng, limits: [u64; 4]) -> u64 {
            let limit = limits[rng.weighted(&[1; 4])];
            rng.range(0..limit)
        }
        match rng.weighted(&[4, 2, 3]) {
            0 => Op::Insert(up_to(rng, [70, 5000, 300_000, 1 << 31])),
            1 => Op::Cancel(rng.next_u64() as usize),
            _ => {
                let by = up_to(rng, [3, 100, 10_000, 1 << 31]);
                Op::Advance(by, rng.next_u64() as u8)
            }
        }
    }

    /// The wheel against a BTreeMap of (deadline, seq): the same entries
    /// fire, in the same order, never early, never twice.
    #[test]
    fn matches_btreemap_model() {
        let _w = crate::test_watchdog::watchdog();
        crate::test_prop::check(400, 1..200, op, |ops| {
            let mut w = Wheel::new();
            let mut model: BTreeMap<(u64, u64), Key> = BTreeMap::new();
            let mut keys: Vec<(Key, u64, u64)> = Vec::new();
            let mut now = 0u64;
            let mut seq = 0u64;
            let mut cancelled_any = false;
            for op in ops.iter().cloned() {
                match op {
                    Op::Insert(delay) => {
                        let when = now + delay.max(1);
                        let k = w.insert(when, seq, seq);
                        model.insert((when, seq), k);
                        keys.push((k, when, seq));
                        seq += 1;
                    }
                    Op::Cancel(i) if !keys.is_empty() => {
                        cancelled_any = true;
                        let (k, when, s) = keys[i % keys.len()];
                        let removed = w.remove(k);
                        assert_eq!(removed.is_some(), model.remove(&(when, s)).is_some());
                    }
                    Op::Cancel(_) => {}
                    Op::Advance(by, mask) => {
                        now += by;
                        w.advance(now);
                        let mut due: Vec<u64> =
                            model.range(..(now + 1, 0)).map(|(&(_, s), _)| s).collect();
                        model.retain(|&(when, _), _| when > now);
                        let cancelled: Vec<u64> = due
                            .iter()
                            .take(8)
                            .enumerate()
                            .filter(|(i, _)| mask & (1 << i) != 0)
                            .map(|(_, &s)| s)
                            .collect();
                        for s in &cancelled {
                            let (k, _, _) =
                                keys.iter().find(|(_, _, ks)| ks == s).copied().unwrap();
                            assert_eq!(w.remove(k), Some(*s));
                        }
                        due.retain(|s| !cancelled.contains(s));
                        let fired = drain(&mut w);
                        assert_eq!(fired, due);
                        if let Some(d) = w.next_deadline() {
                            let first = model.keys().next().map(|&(when, _)| when);
                            assert!(first.is_some_and(|f| d <= f && d > now));
                            if !cancelled_any {
                                assert_eq!(Some(d), first, "deadline not exact");
                            }
                        } else {
                            assert!(model.is_empty());
                        }
                    }
                }
            }
            assert_eq!(w.len(), model.len());
        });
    }
}

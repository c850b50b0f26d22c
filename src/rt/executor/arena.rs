//! The task table's slots (`Executor::tasks`, in `table`): slots that never
//! move, holding small futures inline, and `Runnable`, the interface of the
//! cells they hold.
//!
//! A task used to be a slab slot plus a heap cell for its future. With a
//! million tasks pending at once, the cell's `malloc` and `free` and the
//! fresh memory they touch were most of what a task cost. A slot here is
//! 56 bytes (asserted in a test) and holds a task cell of up to 24 bytes
//! (the future, later its output) in place, boxing only larger ones. Slots
//! live in chunks that are never moved or freed while the table lives, so a
//! future polled in place stays pinned, and a `&Slot` stays valid while
//! anything else (a spawn, a wake) grows the table.
//!
//! The unsafe code's invariants, stated once and relied on at each block:
//! - Every chunk comes from `grow` (a boxed slice of `CHUNK` uninitialised
//!   slots) and is freed only by `Arena::drop`. `grow` initialises a slot
//!   as it hands it out: the slots below `len` are initialised, and only
//!   those are ever reached. A `&Slot` borrows the `Arena`, so no slot
//!   reference outlives its chunk.
//! - `state` says what `storage` holds: `EMPTY`: the free-list link (a
//!   `u32`); `FULL`, `BUSY` or `DROPPING`: the task cell the slot's `vtable`
//!   was made for, inline if `Table::<R>::INLINE` else as a `Box<R>` pointer.
//! - Only code that has moved `state` from `FULL` to `BUSY` (a poll, an
//!   output read) or to `DROPPING` (the drop) touches the cell, so no two
//!   accesses overlap, however re-entrant the user code they run is; none
//!   starts on a slot that is not `FULL`.
//! - A cell is written once by `insert` and never moved until it is dropped,
//!   so pinning it from its first poll on is sound.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::mem::{MaybeUninit, align_of, size_of};
use std::panic::Location;
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll};

use super::state::{NO_JOIN, TaskKey};
use crate::rt::callback::Site;

/// A task's future and, once it is done, its output: what a slot's
/// type-erased cell is, and the interface its `VTable` calls. Defined here,
/// beside the code that calls it, so that the arena imports nothing from
/// `task`; its one implementation, `task::TaskCell`, stays in `task` beside
/// `Task` (see that module on codegen).
pub(super) trait Runnable {
    /// Polls the future; on completion stores the output and drops the
    /// future.
    fn poll_run(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
    /// Moves a finished task's output into `out`, an `&mut Option<T>` of
    /// the task's output type (left `None` if the type differs).
    fn take_output(self: Pin<&mut Self>, out: &mut dyn Any);
    /// For `spawn_fallible` tasks: the `Debug` text of an `Err` output,
    /// which nobody will ever see once this is asked.
    fn unobserved_error(self: Pin<&mut Self>) -> Option<String>;
}

/// The bytes of task state a slot holds in place.
type Storage = [usize; 3];

/// Slots per chunk: 16 KiB chunks.
const CHUNK: usize = 256;

// `Slot::state`.
const EMPTY: u8 = 0;
const FULL: u8 = 1;
const BUSY: u8 = 2;
const DROPPING: u8 = 3;

/// No free slot (the end of the free list).
const NONE: u32 = u32::MAX;

/// A task cell's operations, for the one type `R` it was made for.
struct VTable {
    poll: unsafe fn(*mut Storage, &mut Context<'_>) -> Poll<()>,
    take_output: unsafe fn(*mut Storage, &mut dyn Any),
    unobserved_error: unsafe fn(*mut Storage) -> Option<String>,
    drop: unsafe fn(*mut Storage),
}

struct Table<R>(PhantomData<R>);

impl<R: Runnable + 'static> Table<R> {
    /// Whether an `R` is kept in the slot itself rather than boxed.
    const INLINE: bool =
        size_of::<R>() <= size_of::<Storage>() && align_of::<R>() <= align_of::<Storage>();

    const VTABLE: &'static VTable = &VTable {
        poll: poll_cell::<R>,
        take_output: take_output::<R>,
        unobserved_error: unobserved_error::<R>,
        drop: drop_cell::<R>,
    };

    /// Where the cell is.
    ///
    /// # Safety
    /// `storage` holds an `R` (per `INLINE`, inline or boxed), as for every
    /// `Table` function below.
    unsafe fn cell(storage: *mut Storage) -> *mut R {
        if Self::INLINE {
            storage.cast::<R>()
        } else {
            // SAFETY: the caller's contract: the storage holds a `Box<R>`'s
            // raw pointer.
            unsafe { *storage.cast::<*mut R>() }
        }
    }
}

// SAFETY (all four): called only through the `VTable` of a slot in state
// `BUSY` or `DROPPING`, so `storage` holds the `R` that table was made for
// and nothing else touches it meanwhile (module invariants); it was never
// moved since `insert`, so pinning it is sound.
unsafe fn poll_cell<R: Runnable + 'static>(
    storage: *mut Storage,
    cx: &mut Context<'_>,
) -> Poll<()> {
    // SAFETY: see above.
    let cell = unsafe { Pin::new_unchecked(&mut *Table::<R>::cell(storage)) };
    cell.poll_run(cx)
}

unsafe fn take_output<R: Runnable + 'static>(storage: *mut Storage, out: &mut dyn Any) {
    // SAFETY: see above.
    let cell = unsafe { Pin::new_unchecked(&mut *Table::<R>::cell(storage)) };
    cell.take_output(out)
}

unsafe fn unobserved_error<R: Runnable + 'static>(storage: *mut Storage) -> Option<String> {
    // SAFETY: see above.
    let cell = unsafe { Pin::new_unchecked(&mut *Table::<R>::cell(storage)) };
    cell.unobserved_error()
}

unsafe fn drop_cell<R: Runnable + 'static>(storage: *mut Storage) {
    if Table::<R>::INLINE {
        // SAFETY: see above; the caller never reads the cell again.
        unsafe { ptr::drop_in_place(storage.cast::<R>()) }
    } else {
        // SAFETY: see above; the pointer came from `Box::into_raw`.
        drop(unsafe { Box::from_raw(*storage.cast::<*mut R>()) })
    }
}

/// One task: its cell, and the executor's bookkeeping in `Cell`s (every
/// access to a slot is through a shared reference).
pub(super) struct Slot {
    storage: UnsafeCell<MaybeUninit<Storage>>,
    /// `Some` while the slot holds a cell.
    vtable: Cell<Option<&'static VTable>>,
    /// Where the task was spawned: the site of its polls.
    pub(super) site: Cell<Site>,
    /// The task that awaits this one (valid only with the executor's
    /// `HAS_JOIN` and without its `JOIN_WAKER`).
    pub(super) join: Cell<TaskKey>,
    pub(super) generation: Cell<u32>,
    /// The executor's flags.
    pub(super) flags: Cell<u8>,
    state: Cell<u8>,
}

impl Slot {
    fn empty() -> Slot {
        Slot {
            storage: UnsafeCell::new(MaybeUninit::uninit()),
            vtable: Cell::new(None),
            site: Cell::new(Location::caller()),
            join: Cell::new(NO_JOIN),
            generation: Cell::new(0),
            flags: Cell::new(0),
            state: Cell::new(EMPTY),
        }
    }

    fn storage(&self) -> *mut Storage {
        self.storage.get().cast::<Storage>()
    }

    /// Whether the slot holds a task (even one being polled).
    pub(super) fn is_live(&self) -> bool {
        matches!(self.state.get(), FULL | BUSY)
    }

    /// Whether the task's cell is in use right now (it is being polled, or
    /// its output read), further up this thread's stack.
    pub(super) fn is_busy(&self) -> bool {
        self.state.get() == BUSY
    }

    /// Runs `f` on the cell, with the slot `BUSY` meanwhile; `None` if the
    /// slot holds no cell or its cell is already in use.
    #[inline(always)]
    fn with_cell<T>(&self, f: impl FnOnce(&'static VTable, *mut Storage) -> T) -> Option<T> {
        if self.state.get() != FULL {
            return None;
        }
        let vtable = self.vtable.get()?;
        self.state.set(BUSY);
        // Back to `FULL` however `f` ends, a panic included.
        let _idle = SetOnDrop(&self.state, FULL);
        Some(f(vtable, self.storage()))
    }

    /// Polls the task's future in place (see `Runnable::poll_run`). `None`
    /// if there is no cell to poll or it is in use (already being polled).
    #[inline(always)]
    pub(super) fn poll(&self, cx: &mut Context<'_>) -> Option<Poll<()>> {
        // SAFETY: `with_cell` made the slot `BUSY`, so `storage` holds the
        // cell `vtable` was made for and nothing else touches it.
        self.with_cell(|vtable, storage| unsafe { (vtable.poll)(storage, cx) })
    }

    /// See `Runnable::take_output`; does nothing if the cell is in use.
    pub(super) fn take_output(&self, out: &mut dyn Any) {
        // SAFETY: as in `poll`.
        self.with_cell(|vtable, storage| unsafe { (vtable.take_output)(storage, out) });
    }

    /// See `Runnable::unobserved_error`.
    pub(super) fn unobserved_error(&self) -> Option<String> {
        // SAFETY: as in `poll`.
        self.with_cell(|vtable, storage| unsafe { (vtable.unobserved_error)(storage) })
            .flatten()
    }
}

struct SetOnDrop<'a>(&'a Cell<u8>, u8);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set(self.1);
    }
}

/// All task slots of one loop.
pub(super) struct Arena {
    /// Each points at `CHUNK` slots (a boxed slice's, see `grow`). Only
    /// `get` (which copies a pointer out) and `grow` (which pushes) touch
    /// the `Vec`; neither runs other code meanwhile, and the arena is not
    /// `Sync`, so no two accesses overlap. (A `RefCell` here was a
    /// measurable part of every task lookup.)
    chunks: UnsafeCell<Vec<NonNull<Slot>>>,
    /// Slots handed out at least once: the rest of the last chunk is unused.
    len: Cell<u32>,
    /// The first free slot below `len`; each free slot's storage holds the
    /// next (`NONE` ends the list).
    free: Cell<u32>,
    live: Cell<usize>,
}

impl Arena {
    pub(super) fn new() -> Arena {
        Arena {
            chunks: UnsafeCell::new(Vec::new()),
            len: Cell::new(0),
            free: Cell::new(NONE),
            live: Cell::new(0),
        }
    }

    /// Slots holding a task.
    pub(super) fn live(&self) -> usize {
        self.live.get()
    }

    /// One past the highest slot index ever used.
    pub(super) fn high_water(&self) -> u32 {
        self.len.get()
    }

    /// Slot `index`, live or not; `None` past [`Arena::high_water`].
    #[inline(always)]
    pub(super) fn get(&self, index: u32) -> Option<&Slot> {
        if index >= self.len.get() {
            return None;
        }
        let index = index as usize;
        // SAFETY: see `chunks`: nothing else accesses the `Vec` meanwhile.
        let chunks = unsafe { &*self.chunks.get() };
        let chunk = *chunks.get(index / CHUNK)?;
        // SAFETY: the slot is below `len`, so it is initialised, and its
        // chunk lives as long as `self` (module invariants); slots are only
        // ever shared.
        Some(unsafe { &*chunk.as_ptr().add(index % CHUNK) })
    }

    /// Stores `cell` in a free slot and returns the slot's index. The
    /// executor's fields (`site`, `join`, `generation`, `flags`) are left as
    /// the last occupant left them (see `Executor::vacate`).
    pub(super) fn insert<R: Runnable + 'static>(&self, cell: R) -> u32 {
        let index = match self.free.get() {
            NONE => self.grow(),
            index => index,
        };
        let slot = self.get(index).expect("a slot below len");
        debug_assert_eq!(slot.state.get(), EMPTY);
        if index == self.free.get() {
            // SAFETY: an `EMPTY` slot's storage holds the free-list link.
            self.free
                .set(unsafe { slot.storage().cast::<u32>().read() });
        }
        let storage = slot.storage();
        if Table::<R>::INLINE {
            // SAFETY: `INLINE` says an `R` fits the storage in size and
            // alignment; the slot is `EMPTY`, so nothing is overwritten.
            unsafe { storage.cast::<R>().write(cell) }
        } else {
            let boxed = Box::into_raw(Box::new(cell));
            // SAFETY: the storage is large and aligned enough for a pointer.
            unsafe { storage.cast::<*mut R>().write(boxed) }
        }
        slot.vtable.set(Some(Table::<R>::VTABLE));
        slot.state.set(FULL);
        self.live.set(self.live.get() + 1);
        index
    }

    /// A never-used slot's index, growing the table by a chunk if needed.
    fn grow(&self) -> u32 {
        let index = self.len.get();
        assert!(index < NONE, "more than 2^32 - 1 tasks");
        // SAFETY: see `chunks`: nothing else accesses the `Vec` meanwhile.
        let chunks = unsafe { &mut *self.chunks.get() };
        if index as usize == chunks.len() * CHUNK {
            // Uninitialised: each slot is written as it is first handed out,
            // so a chunk costs nothing before its slots are used.
            let chunk = Box::<[Slot]>::new_uninit_slice(CHUNK);
            let ptr = NonNull::new(Box::into_raw(chunk).cast::<Slot>()).expect("Box is non-null");
            chunks.push(ptr);
        }
        let chunk = chunks[index as usize / CHUNK];
        // SAFETY: in bounds of a live chunk (module invariants), and not yet
        // initialised, so nothing is overwritten and nothing refers to it.
        unsafe {
            chunk
                .as_ptr()
                .add(index as usize % CHUNK)
                .write(Slot::empty())
        };
        self.len.set(index + 1);
        // Not on the free list: `insert` sees `free` differs from it.
        index
    }

    /// Drops slot `index`'s cell in place and frees the slot; `false` (and
    /// nothing done) if it holds no cell or its cell is in use. While the
    /// cell's destructor runs the slot is neither live nor free, so code it
    /// runs cannot reach the task or reuse its slot.
    pub(super) fn vacate(&self, index: u32) -> bool {
        let Some(slot) = self.get(index) else {
            return false;
        };
        if slot.state.get() != FULL {
            return false;
        }
        let Some(vtable) = slot.vtable.take() else {
            return false;
        };
        slot.state.set(DROPPING);
        // The slot is freed even if the destructor panics.
        let _free = Release {
            arena: self,
            slot,
            index,
        };
        // SAFETY: the slot was `FULL` with this vtable, so its storage holds
        // that vtable's cell; `DROPPING` keeps every other access out, and
        // nothing reads the cell after this.
        unsafe { (vtable.drop)(slot.storage()) };
        true
    }
}

/// Puts a slot whose cell was dropped on the free list.
struct Release<'a> {
    arena: &'a Arena,
    slot: &'a Slot,
    index: u32,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let (arena, slot) = (self.arena, self.slot);
        // SAFETY: the cell is gone; an `EMPTY` slot's storage holds the link.
        unsafe { slot.storage().cast::<u32>().write(arena.free.get()) };
        slot.state.set(EMPTY);
        arena.free.set(self.index);
        arena.live.set(arena.live.get() - 1);
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        let mut initialised = self.len.get() as usize;
        for chunk in std::mem::take(self.chunks.get_mut()) {
            let n = initialised.min(CHUNK);
            initialised -= n;
            // Only a slot holding a cell owns anything: with none left, the
            // chunk is freed without reading its slots again.
            if self.live.get() > 0 {
                // SAFETY: the chunk's first `n` slots are initialised (module
                // invariants), and nothing borrows the arena any more.
                let slots = unsafe { &*ptr::slice_from_raw_parts(chunk.as_ptr(), n) };
                for slot in slots {
                    if let Some(vtable) = slot.vtable.take() {
                        slot.state.set(DROPPING);
                        self.live.set(self.live.get() - 1);
                        // SAFETY: a slot with a vtable holds its cell, and
                        // none is in use (nothing borrows the arena).
                        unsafe { (vtable.drop)(slot.storage()) };
                    }
                }
            }
            let slots =
                ptr::slice_from_raw_parts_mut(chunk.as_ptr().cast::<MaybeUninit<Slot>>(), CHUNK);
            // SAFETY: `grow` made this pointer from a boxed slice of `CHUNK`
            // `MaybeUninit<Slot>`s, and no slot owns anything any more.
            drop(unsafe { Box::from_raw(slots) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;
    use std::task::Waker;

    /// What a test cell reports: its drops, where it was when last polled,
    /// and what it does when polled (re-entrant calls into the arena).
    #[derive(Default)]
    struct Seen {
        drops: Cell<u32>,
        at: Cell<usize>,
        on_poll: Cell<Option<Box<dyn FnOnce()>>>,
    }

    /// A test cell of 16 + `N` bytes.
    struct Probe<const N: usize> {
        seen: Rc<Seen>,
        output: Option<u32>,
        _pad: [u8; N],
    }

    impl<const N: usize> Probe<N> {
        fn new(seen: &Rc<Seen>) -> Self {
            Probe {
                seen: seen.clone(),
                output: Some(N as u32),
                _pad: [0; N],
            }
        }
    }

    impl<const N: usize> Drop for Probe<N> {
        fn drop(&mut self) {
            self.seen.drops.set(self.seen.drops.get() + 1);
        }
    }

    impl<const N: usize> Runnable for Probe<N> {
        fn poll_run(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            // (Nothing here relies on the cell staying pinned.)
            let this = self.get_mut();
            this.seen.at.set(&*this as *const Self as usize);
            if let Some(f) = this.seen.on_poll.take() {
                f();
            }
            Poll::Ready(())
        }

        fn take_output(self: Pin<&mut Self>, out: &mut dyn Any) {
            if let Some(out) = out.downcast_mut::<Option<u32>>() {
                *out = self.get_mut().output.take();
            }
        }

        fn unobserved_error(self: Pin<&mut Self>) -> Option<String> {
            self.output.map(|v| format!("left {v}"))
        }
    }

    fn poll(slot: &Slot) -> Option<Poll<()>> {
        slot.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn small_cells_live_in_the_slot_and_large_ones_are_boxed() {
        const { assert!(Table::<Probe<0>>::INLINE) };
        const { assert!(!Table::<Probe<64>>::INLINE) };
        let arena = Arena::new();
        let seen = Rc::new(Seen::default());
        let (drops, at) = (&seen.drops, &seen.at);
        let small = arena.insert(Probe::<0>::new(&seen));
        let large = arena.insert(Probe::<64>::new(&seen));
        let slot = arena.get(small).unwrap();
        assert_eq!(poll(slot), Some(Poll::Ready(())));
        assert_eq!(at.get(), slot.storage() as usize, "polled in place");
        let mut out = None::<u32>;
        slot.take_output(&mut out);
        assert_eq!(out, Some(0));
        let slot = arena.get(large).unwrap();
        assert_eq!(poll(slot), Some(Poll::Ready(())));
        let boxed = at.get();
        assert_ne!(boxed, slot.storage() as usize, "polled in its box");
        assert_eq!(poll(slot), Some(Poll::Ready(())));
        assert_eq!(at.get(), boxed, "and the box does not move");
        assert_eq!(slot.unobserved_error().as_deref(), Some("left 64"));
        assert_eq!(arena.live(), 2);
        assert!(arena.vacate(small) && arena.vacate(large));
        assert_eq!(drops.get(), 2);
        assert_eq!(arena.live(), 0);
        assert!(!arena.vacate(small), "already empty");
        assert_eq!(poll(arena.get(small).unwrap()), None);
        assert_eq!(drops.get(), 2);
    }

    #[test]
    fn freed_slots_are_reused_and_slots_never_move_as_the_table_grows() {
        let arena = Arena::new();
        let seen = Rc::new(Seen::default());
        let drops = &seen.drops;
        let first = arena.insert(Probe::<0>::new(&seen));
        let addr = arena.get(first).unwrap() as *const Slot;
        let many: Vec<u32> = (0..3 * CHUNK)
            .map(|_| arena.insert(Probe::<0>::new(&seen)))
            .collect();
        assert_eq!(arena.get(first).unwrap() as *const Slot, addr);
        assert_eq!(arena.high_water() as usize, 3 * CHUNK + 1);
        // Freed last first: the free list hands slots back in reverse.
        assert!(arena.vacate(many[5]) && arena.vacate(many[9]));
        assert_eq!(arena.insert(Probe::<0>::new(&seen)), many[9]);
        assert_eq!(arena.insert(Probe::<0>::new(&seen)), many[5]);
        assert_eq!(arena.high_water() as usize, 3 * CHUNK + 1);
        assert_eq!(drops.get(), 2);
        assert_eq!(arena.live(), 3 * CHUNK + 1);
        drop(arena);
        assert_eq!(
            drops.get(),
            2 + 3 * CHUNK as u32 + 1,
            "the rest drop with it"
        );
    }

    #[test]
    fn a_cell_in_use_cannot_be_polled_read_or_freed_from_inside() {
        let arena = Rc::new(Arena::new());
        let probe = Rc::new(Seen::default());
        let drops = &probe.drops;
        let seen = Rc::new(Cell::new((true, true, true, true)));
        let cell = Probe::<0>::new(&probe);
        let (a, s) = (arena.clone(), seen.clone());
        probe.on_poll.set(Some(Box::new(move || {
            let slot = a.get(0).unwrap();
            let mut out = None::<u32>;
            slot.take_output(&mut out);
            s.set((
                poll(slot).is_some(),
                out.is_some(),
                a.vacate(0),
                !slot.is_busy(),
            ));
        })));
        assert_eq!(arena.insert(cell), 0);
        assert_eq!(poll(arena.get(0).unwrap()), Some(Poll::Ready(())));
        assert_eq!(seen.get(), (false, false, false, false));
        assert_eq!(drops.get(), 0);
        assert!(
            !arena.get(0).unwrap().is_busy(),
            "idle again after the poll"
        );
        assert!(arena.vacate(0));
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn a_panicking_poll_or_destructor_leaves_the_table_consistent() {
        struct Boom(Rc<Cell<u32>>);
        impl Drop for Boom {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
                panic!("drop fails");
            }
        }
        impl Runnable for Boom {
            fn poll_run(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                panic!("poll fails")
            }
            fn take_output(self: Pin<&mut Self>, _: &mut dyn Any) {}
            fn unobserved_error(self: Pin<&mut Self>) -> Option<String> {
                None
            }
        }
        let arena = Arena::new();
        let drops = Rc::new(Cell::new(0));
        let i = arena.insert(Boom(drops.clone()));
        let slot = arena.get(i).unwrap();
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll(slot)));
        assert!(polled.is_err());
        assert!(
            slot.is_live() && !slot.is_busy(),
            "idle again after the panic"
        );
        let vacated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| arena.vacate(i)));
        assert!(vacated.is_err());
        assert_eq!(drops.get(), 1);
        assert!(!slot.is_live());
        assert_eq!(arena.live(), 0);
        assert_eq!(arena.insert(Boom(drops.clone())), i, "the slot was freed");
        let vacated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| arena.vacate(i)));
        assert!(vacated.is_err());
        assert_eq!((drops.get(), arena.live()), (2, 0));
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Insert a small (inline) or large (boxed) cell.
        Insert(bool),
        /// Vacate the live cell at this position (mod the live count).
        Vacate(usize),
        /// Poll it.
        Poll(usize),
        /// Take its output.
        Take(usize),
    }

    fn op(rng: &mut crate::test_prop::Rng) -> Op {
        let i = rng.next_u64() as usize;
        match rng.weighted(&[4, 3, 2, 1]) {
            0 => Op::Insert(i.is_multiple_of(2)),
            1 => Op::Vacate(i),
            2 => Op::Poll(i),
            _ => Op::Take(i),
        }
    }

    /// The arena against a list of live cells: every cell is dropped
    /// exactly once (when vacated, or with the arena), a cell is polled
    /// where it was first polled (inline cells inside their slot), freed
    /// slots are reused before the table grows, and the counts agree.
    #[test]
    fn matches_a_model_of_live_cells() {
        let _w = crate::test_watchdog::watchdog();
        crate::test_prop::check(100, 1..400, op, |ops| {
            let seen = Rc::new(Seen::default());
            let arena = Arena::new();
            // (index, inline, address when first polled, output taken)
            let mut live: Vec<(u32, bool, Option<usize>, bool)> = Vec::new();
            let mut free = 0usize;
            let mut inserted = 0u32;
            for op in ops.iter().cloned() {
                match op {
                    Op::Insert(small) => {
                        let high = arena.high_water();
                        let index = if small {
                            arena.insert(Probe::<0>::new(&seen))
                        } else {
                            arena.insert(Probe::<40>::new(&seen))
                        };
                        inserted += 1;
                        if free > 0 {
                            free -= 1;
                            assert!(index < high, "a freed slot is reused first");
                        } else {
                            assert_eq!(index, high);
                        }
                        assert!(live.iter().all(|l| l.0 != index));
                        live.push((index, small, None, false));
                    }
                    Op::Vacate(i) if !live.is_empty() => {
                        let (index, ..) = live.swap_remove(i % live.len());
                        let before = seen.drops.get();
                        assert!(arena.vacate(index));
                        assert_eq!(seen.drops.get(), before + 1);
                        assert!(!arena.vacate(index), "vacated twice");
                        free += 1;
                    }
                    Op::Poll(i) if !live.is_empty() => {
                        let n = live.len();
                        let (index, small, at, _) = &mut live[i % n];
                        let slot = arena.get(*index).unwrap();
                        assert_eq!(poll(slot), Some(Poll::Ready(())));
                        let now = seen.at.get();
                        if *small {
                            assert_eq!(now, slot.storage() as usize);
                        }
                        assert_eq!(*at.get_or_insert(now), now, "the cell moved");
                    }
                    Op::Take(i) if !live.is_empty() => {
                        let n = live.len();
                        let (index, small, _, taken) = &mut live[i % n];
                        let mut out = None::<u32>;
                        arena.get(*index).unwrap().take_output(&mut out);
                        let expected = if *small { 0 } else { 40 };
                        assert_eq!(out, (!*taken).then_some(expected));
                        *taken = true;
                    }
                    _ => {}
                }
                assert_eq!(arena.live(), live.len());
                assert_eq!(seen.drops.get(), inserted - live.len() as u32);
            }
            drop(arena);
            assert_eq!(seen.drops.get(), inserted, "the rest drop with the arena");
        });
    }
}

//! Type-erased callbacks that store small closures inline.
//!
//! Every queued callback used to be a `Box<dyn FnOnce()>`: one `malloc` when
//! scheduled and one `free` when run. With a million timers fired in deadline
//! order (not creation order) those frees land all over the heap, and the
//! allocator's coalescing of them cost more than the loop itself. Most loop
//! callbacks capture one pointer (an `Rc`, a `Box`, an index), so [`SmallFn`]
//! keeps a closure of up to one word inline and boxes only larger ones, in
//! the same 16 bytes a `Box<dyn FnOnce()>` takes.
//!
//! [`Callback`] is a `SmallFn` with the [`Site`] that scheduled it, which
//! panic reports, traces and snapshots name ([`describe_site`]).
//!
//! `SmallFn` is unsafe code (design.md, "Unsafe code", lists every block in
//! the crate); its invariants are stated once here and at each block:
//! - `word` holds either an `F` (when [`fits::<F>`] says it fits: size and
//!   alignment at most a word's) or a `Box<F>`, written by `new_*` and owned by
//!   the `SmallFn` until it is consumed by `call_once` or dropped;
//! - `vtable` is the table made for that same `F` and that same storage choice,
//!   so each function in it reads the word as the type that was written.

use std::any::Any;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit, align_of, size_of};
use std::panic::Location;
use std::ptr;

/// Where a callback was scheduled (recorded with `#[track_caller]`).
pub(crate) type Site = &'static Location<'static>;

/// What a caught panic carries.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// `file:line` of a scheduling site, as logs, traces and labels print it.
pub(crate) fn describe_site(site: Site) -> String {
    format!("{}:{}", site.file(), site.line())
}

/// A queued callback and the site that queued it.
pub(crate) struct Callback {
    pub(crate) f: SmallFn,
    pub(crate) site: Site,
}

impl Callback {
    pub(crate) fn new(f: impl FnOnce() + 'static, site: Site) -> Callback {
        Callback {
            f: SmallFn::once(f),
            site,
        }
    }
}

/// One machine word of storage, aligned for any type up to 8 bytes.
#[repr(C, align(8))]
struct Word(MaybeUninit<[u8; 8]>);

struct VTable {
    /// Moves the closure out and calls it.
    call_once: unsafe fn(*mut Word),
    /// Calls the closure in place; `None` for `FnOnce` closures.
    call_mut: Option<unsafe fn(*mut Word)>,
    drop: unsafe fn(*mut Word),
    /// The word holds a `Box<F>` rather than an `F`.
    boxed: bool,
}

/// A `FnOnce()` or `FnMut()` closure, inline if it fits in a word.
pub(crate) struct SmallFn {
    word: Word,
    vtable: &'static VTable,
    /// The closure may hold `Rc`s: never `Send` or `Sync`.
    _not_send: PhantomData<*const ()>,
}

const fn fits<F>() -> bool {
    size_of::<F>() <= size_of::<Word>() && align_of::<F>() <= align_of::<Word>()
}

struct Once<F>(PhantomData<F>);

impl<F: FnOnce() + 'static> Once<F> {
    const INLINE: &'static VTable = &VTable {
        call_once: inline_call_once::<F>,
        call_mut: None,
        drop: inline_drop::<F>,
        boxed: false,
    };
    const BOXED: &'static VTable = &VTable {
        call_once: boxed_call_once::<F>,
        call_mut: None,
        drop: boxed_drop::<F>,
        boxed: true,
    };
}

struct Mut<F>(PhantomData<F>);

impl<F: FnMut() + 'static> Mut<F> {
    const INLINE: &'static VTable = &VTable {
        call_once: inline_call_once::<F>,
        call_mut: Some(inline_call_mut::<F>),
        drop: inline_drop::<F>,
        boxed: false,
    };
    const BOXED: &'static VTable = &VTable {
        call_once: boxed_call_once::<F>,
        call_mut: Some(boxed_call_mut::<F>),
        drop: boxed_drop::<F>,
        boxed: true,
    };
}

// SAFETY (all six): the caller passes a word that holds a live `F` (inline
// variants) or `Box<F>` (boxed variants), per the module invariants; the
// `*_call_once` and `*_drop` functions take ownership of it, and the caller
// never touches the word again.
unsafe fn inline_call_once<F: FnOnce()>(word: *mut Word) {
    // SAFETY: see above; `fits::<F>()` held when it was written, so the read
    // is in bounds and aligned.
    let f = unsafe { ptr::read(word.cast::<F>()) };
    f()
}

unsafe fn boxed_call_once<F: FnOnce()>(word: *mut Word) {
    // SAFETY: see above.
    let f = unsafe { ptr::read(word.cast::<Box<F>>()) };
    f()
}

unsafe fn inline_call_mut<F: FnMut()>(word: *mut Word) {
    // SAFETY: see above; the `&mut` is unique because `SmallFn::call_mut`
    // holds `&mut self`.
    let f = unsafe { &mut *word.cast::<F>() };
    f()
}

unsafe fn boxed_call_mut<F: FnMut()>(word: *mut Word) {
    // SAFETY: as for `inline_call_mut`.
    let f = unsafe { &mut **word.cast::<Box<F>>() };
    f()
}

unsafe fn inline_drop<F>(word: *mut Word) {
    // SAFETY: see above.
    unsafe { ptr::drop_in_place(word.cast::<F>()) }
}

unsafe fn boxed_drop<F>(word: *mut Word) {
    // SAFETY: see above.
    drop(unsafe { ptr::read(word.cast::<Box<F>>()) })
}

impl SmallFn {
    /// Stores a closure that runs at most once.
    pub(crate) fn once<F: FnOnce() + 'static>(f: F) -> SmallFn {
        if fits::<F>() {
            SmallFn::write(f, Once::<F>::INLINE)
        } else {
            SmallFn::write(Box::new(f), Once::<F>::BOXED)
        }
    }

    /// Stores a closure that can run many times.
    pub(crate) fn repeating<F: FnMut() + 'static>(f: F) -> SmallFn {
        if fits::<F>() {
            SmallFn::write(f, Mut::<F>::INLINE)
        } else {
            SmallFn::write(Box::new(f), Mut::<F>::BOXED)
        }
    }

    /// A closure that does nothing (inline, no allocation).
    pub(crate) fn noop() -> SmallFn {
        SmallFn::repeating(|| {})
    }

    /// `V` is either `F` (when it fits) or `Box<F>`, matching `vtable`.
    fn write<V>(value: V, vtable: &'static VTable) -> SmallFn {
        const { assert!(fits::<usize>()) };
        assert!(fits::<V>(), "SmallFn::write: value does not fit a word");
        let mut word = Word(MaybeUninit::uninit());
        // SAFETY: `V` fits the word in size and alignment (checked above),
        // and the word is fresh, so nothing is overwritten.
        unsafe { ptr::write((&mut word as *mut Word).cast::<V>(), value) };
        SmallFn {
            word,
            vtable,
            _not_send: PhantomData,
        }
    }

    /// Whether the closure can run many times (made by `repeating`).
    pub(crate) fn is_repeating(&self) -> bool {
        self.vtable.call_mut.is_some()
    }

    /// Hints the CPU to load the closure's heap part, if it has one.
    pub(crate) fn prefetch(&self) {
        if self.vtable.boxed {
            // SAFETY: a boxed vtable means the word holds a `Box<F>` of a
            // sized `F`, which is one non-null thin pointer; reading its bits
            // as a raw pointer neither moves nor frees the box.
            let heap = unsafe { ptr::read((&self.word as *const Word).cast::<*const u8>()) };
            // SAFETY: the box is live while `self` is, so this is a valid
            // reference for as long as the hint is issued.
            crate::rt::prefetch::prefetch(unsafe { &*heap });
        }
    }

    /// Calls the closure, consuming it.
    #[inline]
    pub(crate) fn call_once(self) {
        let mut me = ManuallyDrop::new(self);
        let call = me.vtable.call_once;
        // SAFETY: `me` owns a live closure matching its vtable; `call_once`
        // takes it, and `ManuallyDrop` keeps us from dropping it again, even
        // if the call unwinds.
        unsafe { call(&mut me.word) }
    }

    /// Calls the closure in place. A `FnOnce` closure runs once and is then
    /// replaced by a no-op.
    pub(crate) fn call_mut(&mut self) {
        match self.vtable.call_mut {
            // SAFETY: the word holds a live closure matching the vtable, and
            // `&mut self` makes this the only access to it.
            Some(call) => unsafe { call(&mut self.word) },
            None => std::mem::replace(self, SmallFn::noop()).call_once(),
        }
    }
}

impl Drop for SmallFn {
    fn drop(&mut self) {
        let drop_fn = self.vtable.drop;
        // SAFETY: the word holds a live closure matching the vtable (a
        // consumed `SmallFn` is never dropped: `call_once` wraps it in
        // `ManuallyDrop`).
        unsafe { drop_fn(&mut self.word) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Counts drops of the value it guards.
    struct Guard(Rc<Cell<u32>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(size_of::<SmallFn>(), 16);
        assert!(fits::<Rc<u8>>());
        assert!(fits::<Box<[u8]>>() == (size_of::<Box<[u8]>>() <= 8));
        assert!(!fits::<[u64; 2]>());
    }

    #[test]
    fn once_inline_and_boxed_run_and_drop_exactly_once() {
        let drops = Rc::new(Cell::new(0));
        let runs = Rc::new(Cell::new(0));
        // Inline: captures one Rc (the guard's Rc is moved in).
        let g = Guard(drops.clone());
        let f = SmallFn::once(move || {
            let _g = &g;
        });
        f.call_once();
        assert_eq!(drops.get(), 1);
        // Boxed: captures three words.
        let (g, r, pad) = (Guard(drops.clone()), runs.clone(), [7u64; 2]);
        let f = SmallFn::once(move || {
            let _g = &g;
            r.set(r.get() + pad[0] as u32);
        });
        f.call_once();
        assert_eq!((drops.get(), runs.get()), (2, 7));
        // Dropped without running.
        let g = Guard(drops.clone());
        drop(SmallFn::once(move || drop(g)));
        let g = Guard(drops.clone());
        let big = [1u64; 4];
        drop(SmallFn::once(move || drop((g, big))));
        assert_eq!(drops.get(), 4);
    }

    #[test]
    fn repeating_runs_many_times_then_drops_once() {
        let runs = Rc::new(Cell::new(0));
        let drops = Rc::new(Cell::new(0));
        for big in [false, true] {
            let (r, g) = (runs.clone(), Guard(drops.clone()));
            let pad = [1u64; 3];
            let mut f = if big {
                SmallFn::repeating(move || {
                    let _g = &g;
                    r.set(r.get() + pad[2] as u32)
                })
            } else {
                SmallFn::repeating(move || {
                    let _ = &g;
                    r.set(r.get() + pad.len() as u32 - 2)
                })
            };
            f.call_mut();
            f.call_mut();
            f.call_once();
        }
        assert_eq!((runs.get(), drops.get()), (6, 2));
    }

    #[test]
    fn once_called_through_call_mut_runs_once() {
        let runs = Rc::new(Cell::new(0));
        let r = runs.clone();
        let mut f = SmallFn::once(move || r.set(r.get() + 1));
        f.call_mut();
        f.call_mut();
        assert_eq!(runs.get(), 1);
    }

    #[test]
    fn a_panicking_call_drops_captures_once() {
        let drops = Rc::new(Cell::new(0));
        for big in [false, true] {
            let g = Guard(drops.clone());
            let pad = [0u64; 3];
            let f = if big {
                SmallFn::once(move || {
                    let _g = g;
                    let _ = pad;
                    panic!("boom");
                })
            } else {
                SmallFn::once(move || {
                    let _g = g;
                    panic!("boom");
                })
            };
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.call_once()));
            assert!(r.is_err());
        }
        assert_eq!(drops.get(), 2);
    }

    #[test]
    fn over_aligned_closures_are_boxed() {
        #[repr(align(32))]
        struct Aligned(u8);
        assert!(!fits::<Aligned>());
        let a = Aligned(5);
        let out = Rc::new(Cell::new(0));
        let o = out.clone();
        SmallFn::once(move || o.set(a.0)).call_once();
        assert_eq!(out.get(), 5);
    }
}

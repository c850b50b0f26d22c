//! A cache prefetch hint, for the two places that walk memory the CPU cannot
//! predict: the timer wheel's ready list and a boxed callback's closure.

/// Hints the CPU to start loading the cache line that holds `value`.
#[inline(always)]
pub(crate) fn prefetch<T: ?Sized>(value: &T) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: `prefetcht0` is only a hint: it never faults and never changes
    // memory, whatever the address (here, that of a live reference), and SSE,
    // which provides it, is part of the x86_64 baseline.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>());
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = value;
}

//! The cross-thread inbox gives its memory back after a burst (issue 19,
//! item 6): measured with a counting global allocator, which is why this is
//! a binary of its own (the allocator is process-wide). Resident memory is
//! not measured: glibc keeps freed pages, so RSS says what the allocator
//! holds, not what evloop holds (`docs/reliability.md`).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use evloop::{EventLoop, RunMode};

struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method passes its arguments to `System` unchanged and only
// counts the bytes of the blocks that succeeded.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// 400,000 posts from four threads while the loop is busy hold megabytes;
/// once the loop has run them, the heap is back where it was (a few blocks
/// of slack: the channel keeps at most one block of 31 slots).
#[test]
fn a_drained_burst_of_posts_gives_its_heap_back() {
    let _w = common::watchdog();
    const PER_THREAD: usize = 100_000;
    let lp = EventLoop::builder().post_limit(usize::MAX).build().unwrap();
    let handles: Vec<_> = (0..4).map(|_| lp.handle()).collect();
    // One post and run first, so that what is allocated once (the first
    // block, thread-locals) is in the baseline.
    handles[0].post(|| {}).unwrap();
    lp.run(RunMode::NoWait);
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    std::thread::scope(|s| {
        for handle in &handles {
            s.spawn(move || {
                for i in 0..PER_THREAD as u64 {
                    handle.post(move || _ = std::hint::black_box(i)).unwrap();
                }
            });
        }
    });
    let queued = LIVE_BYTES.load(Ordering::Relaxed);
    assert_eq!(lp.snapshot().posts_queued, 4 * PER_THREAD);
    // Each queued post is at least its slot in the channel and its boxed
    // closure.
    assert!(
        queued - before >= 4 * PER_THREAD * 48,
        "a burst of {} posts holds only {} bytes",
        4 * PER_THREAD,
        queued - before
    );
    drop(handles);
    lp.run(RunMode::Default);
    let after = LIVE_BYTES.load(Ordering::Relaxed);
    println!("live heap: {before} bytes before, {queued} with the burst queued, {after} drained");
    assert!(
        after <= before + 4096,
        "the drained inbox still holds {} bytes",
        after.saturating_sub(before)
    );
}

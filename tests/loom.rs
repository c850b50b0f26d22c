//! Model check of the cross-thread wake protocol with `loom`:
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --test loom --release
//! ```
//!
//! (A separate target directory keeps the `--cfg loom` build from
//! invalidating the normal one.) Without `--cfg loom` this file is empty.
//!
//! What is checked is `evloop`'s own `WakeFlag` (`src/rt/remote.rs`: the
//! `notified` flag, whose atomic comes from loom under `--cfg loom`), driven
//! the way `LoopHandle` and the poll phase drive it. crossbeam's channel
//! cannot run under loom, so the model stands in for it with a
//! `Mutex<VecDeque>`, and for the `mio::Waker` with an eventfd model: a
//! counter that a wake bumps and that the loop's `epoll_wait` consumes,
//! blocking on a condition variable while it is zero. loom then runs every
//! interleaving of the posting threads and the loop and fails on either
//! - a post that never runs: the loop exits with a job still queued, or runs a
//!   job twice or out of its thread's order; or
//! - a lost wake-up: the loop blocks in `epoll_wait` while nothing will ever
//!   write to the eventfd again (loom reports the deadlock).
//!
//! Clearing the flag after the drain rather than before is caught at once
//! (checked by hand: a deadlock within a bound of one preemption), and so is
//! setting it again after a panicking post with a plain store rather than a
//! read-modify-write (`two_posters_none_stranded_when_a_post_panics`).
//!
//! `LOOM_MAX_PREEMPTIONS` overrides the bound of three (about 30 s for the
//! four models, one after the other, on the 2-core machine).
#![cfg(loom)]

mod common;

use std::collections::VecDeque;

use evloop::WakeFlag;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// The eventfd behind `mio::Waker`: writes add up; `epoll_wait` returns once
/// per write edge and consumes everything written so far.
struct EventFd {
    count: Mutex<u64>,
    cv: Condvar,
}

impl EventFd {
    fn write(&self) {
        *self.count.lock().unwrap() += 1;
        self.cv.notify_one();
    }

    /// `epoll_wait` with no timeout: returns only after a write.
    fn wait(&self) {
        let mut count = self.count.lock().unwrap();
        while *count == 0 {
            count = self.cv.wait(count).unwrap();
        }
        *count = 0;
    }

    /// `epoll_wait` with a zero timeout: consumes a pending write, if any.
    fn poll_now(&self) {
        *self.count.lock().unwrap() = 0;
    }
}

/// `remote::Shared`, with the channel replaced by a locked queue.
struct Shared {
    queue: Mutex<VecDeque<(usize, usize)>>,
    notified: WakeFlag,
    eventfd: EventFd,
    /// Referenced handles alive.
    refs: AtomicUsize,
}

impl Shared {
    fn new(handles: usize) -> Shared {
        Shared {
            queue: Mutex::new(VecDeque::new()),
            notified: WakeFlag::new(),
            eventfd: EventFd {
                count: Mutex::new(0),
                cv: Condvar::new(),
            },
            refs: AtomicUsize::new(handles),
        }
    }

    /// `Shared::wake`.
    fn wake(&self) {
        if self.notified.notify() {
            self.eventfd.write();
        }
    }

    /// `LoopHandle::post`: push, then wake.
    fn post(&self, job: (usize, usize)) {
        self.queue.lock().unwrap().push_back(job);
        self.wake();
    }

    /// `LoopHandle::drop` of a referenced handle (`release`).
    fn release(&self) {
        if self.refs.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.wake();
        }
    }

    /// `Inbox::keeps_alive`: referenced handles, or posts not yet run.
    fn keeps_alive(&self) -> bool {
        self.refs.load(Ordering::Acquire) > 0 || !self.queue.lock().unwrap().is_empty()
    }
}

/// How the modelled loop's poll phases go.
#[derive(Clone, Copy)]
struct Loop {
    /// The first poll has a zero timeout (as when an immediate is pending):
    /// it calls into the OS only if the flag is set, and never blocks.
    first_poll_zero: bool,
    /// The first post run panics (the run stops and is called again): the
    /// rest of that drain stays queued, and the loop sets the flag again
    /// (`RearmOnUnwind`) without a write to the eventfd.
    first_post_panics: bool,
}

/// The loop with nothing but the handles keeping it alive: `EventLoop::run`
/// checking `alive()` around each iteration; `poll_timeout` (zero when the
/// flag is set, else forever); the poll phase, which reads the flag
/// (`must_poll`), waits on the eventfd if it has to, then clears the flag and
/// runs the posts queued at that moment (`Core::poll`). Returns the jobs run,
/// in order.
fn run_loop(shared: &Shared, how: Loop) -> Vec<(usize, usize)> {
    let mut ran = Vec::new();
    let mut iteration = 0;
    let mut panicked = false;
    while shared.keeps_alive() {
        let zero_timeout = (iteration == 0 && how.first_poll_zero) || shared.notified.is_set();
        let woken = shared.notified.is_set();
        if !zero_timeout {
            shared.eventfd.wait();
        } else if woken {
            shared.eventfd.poll_now();
        }
        iteration += 1;
        if shared.notified.take() {
            // `pending()` then `try_recv()` that many times: the jobs queued
            // now (taken under one lock, to keep the model small; a push
            // racing with the pops changes nothing, the count is fixed).
            let mut queue = shared.queue.lock().unwrap();
            let mut n = queue.len();
            if how.first_post_panics && !panicked && n > 0 {
                // The first job runs and panics; the others stay queued.
                panicked = true;
                n = 1;
                ran.extend(queue.drain(..n));
                drop(queue);
                shared.notified.set();
                continue;
            }
            ran.extend(queue.drain(..n));
        }
    }
    ran
}

/// Poster `p` posts `posts[p]` jobs through its own referenced handle and
/// drops it; the loop runs on the model's main thread.
fn check(posts: &'static [usize], how: Loop) {
    let posters = posts.len();
    let mut model = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        // Every interleaving with up to three preemptions (loom's advice:
        // most bugs need two or three); unbounded, two posters take hours.
        model.preemption_bound = Some(3);
    }
    model.check(move || {
        let shared = Arc::new(Shared::new(posters));
        let threads: Vec<_> = (0..posters)
            .map(|p| {
                let shared = shared.clone();
                thread::spawn(move || {
                    for i in 0..posts[p] {
                        shared.post((p, i));
                    }
                    shared.release();
                })
            })
            .collect();
        let ran = run_loop(&shared, how);
        for t in threads {
            t.join().unwrap();
        }
        // Every job ran exactly once, each thread's in posting order.
        let mut next = vec![0; posters];
        for (p, i) in ran {
            assert_eq!(i, next[p], "poster {p}: job {i} ran out of order or twice");
            next[p] += 1;
        }
        assert_eq!(next, posts, "a post never ran");
        assert!(shared.queue.lock().unwrap().is_empty());
    });
}

const PLAIN: Loop = Loop {
    first_poll_zero: false,
    first_post_panics: false,
};

#[test]
fn one_poster_three_posts_none_stranded() {
    let _w = common::watchdog_for(std::time::Duration::from_secs(300));
    check(&[3], PLAIN);
}

#[test]
fn two_posters_none_stranded() {
    let _w = common::watchdog_for(std::time::Duration::from_secs(300));
    check(&[2, 2], PLAIN);
}

#[test]
fn two_posters_none_stranded_after_a_zero_timeout_poll() {
    let _w = common::watchdog_for(std::time::Duration::from_secs(300));
    // The poll phase skips the syscall when its timeout is zero and the flag
    // is clear; a post landing just then must still be seen.
    check(
        &[2, 1],
        Loop {
            first_poll_zero: true,
            ..PLAIN
        },
    );
}

#[test]
fn two_posters_none_stranded_when_a_post_panics() {
    let _w = common::watchdog_for(std::time::Duration::from_secs(300));
    // The posts left behind by a panicking one run on the next run, though
    // the loop set the flag again without a wake-up.
    check(
        &[2, 1],
        Loop {
            first_post_panics: true,
            ..PLAIN
        },
    );
}

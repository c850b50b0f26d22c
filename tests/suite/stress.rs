//! Stress of the cross-thread path: `LoopHandle::post` from eight threads, the
//! race between a post and the loop going back to sleep (the `notified` flag
//! in `src/rt/remote.rs`), and task wakers woken from other threads.
//!
//! Every test checks *exactly once*: each thread numbers its posts, and the
//! loop asserts that each thread's posts arrive in posting order with no gap
//! and no repeat, so a lost, duplicated or reordered post is reported by
//! thread and number. A lost wake-up shows up as a hang, which the watchdogs
//! turn into a failure (a waiting thread names what it waits for every
//! 10 s). Nothing is timed: a busy machine makes the tests slower, never
//! failing.
//!
//! `EVLOOP_STRESS_POSTS=N` changes the number of closures the first test
//! posts (default 1,000,000, a few seconds in a debug build); the other tests
//! scale with it.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::common;

use evloop::{EventLoop, LoopHandle, RunMode};

const THREADS: usize = 8;

/// Posts in the main test (`EVLOOP_STRESS_POSTS`, default one million).
fn total_posts() -> u64 {
    std::env::var("EVLOOP_STRESS_POSTS")
        .ok()
        .and_then(|s| s.trim().replace('_', "").parse().ok())
        .unwrap_or(1_000_000)
}

/// A small deterministic generator (xorshift), so each thread's bursts and
/// pauses differ but a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

thread_local! {
    /// On the loop's thread: the next sequence number expected from each
    /// posting thread, and the first violation seen.
    static ARRIVED: RefCell<Arrivals> = RefCell::new(Arrivals::default());
}

#[derive(Default)]
struct Arrivals {
    next: Vec<u64>,
    total: u64,
    error: Option<String>,
}

fn reset_arrivals() {
    ARRIVED.with(|a| {
        *a.borrow_mut() = Arrivals {
            next: vec![0; THREADS],
            ..Arrivals::default()
        }
    });
}

/// Runs on the loop thread for post `seq` of thread `t`.
fn arrive(t: usize, seq: u64) {
    ARRIVED.with(|a| {
        let mut a = a.borrow_mut();
        a.total += 1;
        if a.next[t] != seq && a.error.is_none() {
            let expected = a.next[t];
            a.error = Some(if seq < expected {
                format!("thread {t}: post {seq} arrived twice or late (expected {expected})")
            } else {
                format!("thread {t}: post {seq} arrived before post {expected} (lost or reordered)")
            });
        }
        a.next[t] = seq + 1;
    });
}

/// Asserts every thread's `per_thread[t]` posts arrived once, in order.
fn check_arrivals(per_thread: &[u64]) {
    ARRIVED.with(|a| {
        let a = a.borrow();
        if let Some(e) = &a.error {
            panic!("{e}");
        }
        assert_eq!(a.next, per_thread, "posts missing at the end");
        assert_eq!(a.total, per_thread.iter().sum::<u64>(), "posts run");
    });
}

/// A posting thread's wait for the loop to run what it posted. A lost
/// wake-up makes the wait endless, and the test's watchdog fails it; there
/// is no time limit of its own (a busy machine can hold the loop's thread
/// for a long time), but every 10 s the thread says what it still waits
/// for, so that a hang names the post or wake that was lost.
struct Waiting {
    since: Instant,
    next_report: u64,
    thread: usize,
    seq: u64,
    what: &'static str,
}

impl Waiting {
    fn new(thread: usize, seq: u64, what: &'static str) -> Waiting {
        Waiting {
            since: Instant::now(),
            next_report: 10,
            thread,
            seq,
            what,
        }
    }

    /// Reports (once per 10 s, never fails) a wait that has gone on long.
    fn check(&mut self) {
        let waited = self.since.elapsed().as_secs();
        if waited >= self.next_report {
            eprintln!(
                "thread {}: {} {} still not run after {waited} s \
                 (a lost wake-up, or a very busy machine)",
                self.thread, self.what, self.seq
            );
            self.next_report = waited + 10;
        }
    }
}

/// Splits `total` posts over the threads.
fn split(total: u64) -> Vec<u64> {
    (0..THREADS as u64)
        .map(|t| total / THREADS as u64 + u64::from(t < total % THREADS as u64))
        .collect()
}

#[test]
fn eight_threads_post_a_million_closures_each_arrives_once_in_order() {
    let _w = common::watchdog_for(std::time::Duration::from_secs(300));
    let total = total_posts();
    let per_thread = split(total);
    reset_arrivals();
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let start = Arc::new(Barrier::new(THREADS));
    let started = Instant::now();
    let threads: Vec<_> = per_thread
        .iter()
        .enumerate()
        .map(|(t, &n)| {
            let h = handle.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                for seq in 0..n {
                    h.post(move || arrive(t, seq)).expect("the loop is alive");
                }
                // `h` drops here: the last drop lets the loop exit.
            })
        })
        .collect();
    drop(handle);
    // Nothing but the handles keeps the loop alive: it runs while the
    // threads post and returns once every handle is gone and every post ran.
    let alive = lp.run(RunMode::Default);
    let elapsed = started.elapsed();
    assert!(!alive, "the loop exits when every handle is dropped");
    for t in threads {
        t.join().unwrap();
    }
    check_arrivals(&per_thread);
    assert!(!lp.is_alive());
    println!(
        "{total} posts from {THREADS} threads: {total} arrived once each, in order, in {:.2} s",
        elapsed.as_secs_f64()
    );
}

#[test]
fn posts_racing_with_the_loop_going_idle_are_never_lost() {
    // Short bursts with pauses between them: the loop drains a burst and
    // goes back to `epoll_wait` between most bursts, so posts keep landing
    // just before, during and just after the drain (the `notified` flag is
    // cleared before the drain; a post after it must wake the loop again).
    // After about half the bursts the thread waits until its burst has run:
    // a burst stranded by a lost wake-up would make every thread wait at
    // once with the loop asleep, and hang until the watchdog fails the test.
    let _w = common::watchdog_for(std::time::Duration::from_secs(120));
    let bursts_per_thread = (total_posts() / 200).clamp(50, 1_000_000);
    reset_arrivals();
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let ran: Arc<Vec<AtomicU64>> = Arc::new((0..THREADS).map(|_| AtomicU64::new(0)).collect());
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let h = handle.clone();
            let ran = ran.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(t as u64 + 1);
                let mut seq = 0;
                for _ in 0..bursts_per_thread {
                    for _ in 0..=rng.below(4) {
                        let ran = ran.clone();
                        h.post(move || {
                            arrive(t, seq);
                            ran[t].store(seq + 1, Ordering::Release);
                        })
                        .expect("the loop is alive");
                        seq += 1;
                    }
                    match rng.below(6) {
                        0 => thread::yield_now(),
                        1 => {} // straight on: catch the loop mid-drain
                        2 | 3 => {
                            // sleep: a pause of random length, only to vary
                            // where the next burst lands against the loop's
                            // drain; every arrival is checked the same way.
                            thread::sleep(Duration::from_micros(rng.below(200)))
                        }
                        _ => {
                            let mut waiting = Waiting::new(t, seq, "posts up to");
                            while ran[t].load(Ordering::Acquire) < seq {
                                waiting.check();
                                thread::yield_now();
                            }
                        }
                    }
                }
                seq
            })
        })
        .collect();
    drop(handle);
    assert!(!lp.run(RunMode::Default));
    let per_thread: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    check_arrivals(&per_thread);
    println!(
        "{} posts in {} bursts per thread arrived once each",
        per_thread.iter().sum::<u64>(),
        bursts_per_thread
    );
}

#[test]
fn a_post_to_an_idle_loop_always_wakes_it() {
    // Ping-pong: each thread posts one closure and waits for it to run before
    // posting the next, so the loop is idle (blocked in `epoll_wait`) before
    // nearly every post. A single lost wake-up leaves a post stranded with
    // the loop asleep, and its thread waits until the watchdog fails the test.
    let _w = common::watchdog_for(std::time::Duration::from_secs(120));
    let rounds = (total_posts() / 250).clamp(100, 1_000_000);
    reset_arrivals();
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let h: LoopHandle = handle.clone();
            thread::spawn(move || {
                let (tx, rx) = mpsc::channel::<u64>();
                for seq in 0..rounds {
                    let tx = tx.clone();
                    h.post(move || {
                        arrive(t, seq);
                        tx.send(seq).unwrap();
                    })
                    .expect("the loop is alive");
                    let mut waiting = Waiting::new(t, seq, "post");
                    let got = loop {
                        match rx.recv_timeout(Duration::from_secs(1)) {
                            Ok(got) => break got,
                            Err(mpsc::RecvTimeoutError::Timeout) => waiting.check(),
                            Err(e) => panic!("thread {t}: post {seq}: {e}"),
                        }
                    };
                    assert_eq!(got, seq);
                }
            })
        })
        .collect();
    drop(handle);
    assert!(!lp.run(RunMode::Default));
    for t in threads {
        t.join().expect("every round trip completed");
    }
    check_arrivals(&[rounds; THREADS]);
    println!(
        "{} round trips from {THREADS} threads",
        rounds * THREADS as u64
    );
}

// ---------------------------------------------------------------------------
// task wakers

/// What the wakers' threads and the task share.
struct WakeState {
    /// Per thread: the last request it made (its wake count), written before
    /// it wakes the task.
    requested: Vec<AtomicU64>,
    /// Per thread: the last request the task's poll has seen.
    seen: Vec<AtomicU64>,
    polls: AtomicU64,
    waker: Mutex<Option<Waker>>,
    /// Set by the task's first poll once the waker is published.
    ready: AtomicBool,
}

/// Completes once every thread's last request has been seen by a poll.
struct WokenFromThreads {
    state: Arc<WakeState>,
    wakes_per_thread: u64,
}

impl Future for WokenFromThreads {
    type Output = u64;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let s = &self.state;
        let polls = s.polls.fetch_add(1, Ordering::SeqCst) + 1;
        if !s.ready.load(Ordering::SeqCst) {
            *s.waker.lock().unwrap() = Some(cx.waker().clone());
            s.ready.store(true, Ordering::SeqCst);
        }
        let mut done = 0;
        for (req, seen) in s.requested.iter().zip(&s.seen) {
            let r = req.load(Ordering::SeqCst);
            seen.store(r, Ordering::SeqCst);
            done += usize::from(r == self.wakes_per_thread);
        }
        if done == s.requested.len() {
            Poll::Ready(polls)
        } else {
            Poll::Pending
        }
    }
}

#[test]
fn task_wakers_woken_from_eight_threads_never_lose_a_wake() {
    // Eight threads share clones of one task's waker. Each makes a request
    // (a number) and wakes the task, and waits until a poll has seen that
    // request before making the next: so every wake must lead to a poll
    // that runs after it, or that thread waits for ever. Wakes coalesce
    // (a task woken twice before its poll is polled once), so there are at
    // most as many polls as wakes, plus the first.
    let _w = common::watchdog_for(std::time::Duration::from_secs(120));
    let wakes_per_thread = (total_posts() / 100).clamp(100, 1_000_000);
    let state = Arc::new(WakeState {
        requested: (0..THREADS).map(|_| AtomicU64::new(0)).collect(),
        seen: (0..THREADS).map(|_| AtomicU64::new(0)).collect(),
        polls: AtomicU64::new(0),
        waker: Mutex::new(None),
        ready: AtomicBool::new(false),
    });
    let finished = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let state = state.clone();
            let finished = finished.clone();
            thread::spawn(move || {
                while !state.ready.load(Ordering::SeqCst) {
                    thread::yield_now();
                }
                let waker = state.waker.lock().unwrap().clone().unwrap();
                let mut rng = Rng::new(100 + t as u64);
                for k in 1..=wakes_per_thread {
                    state.requested[t].store(k, Ordering::SeqCst);
                    // Both ways of waking: by reference, and by value.
                    if rng.below(2) == 0 {
                        waker.wake_by_ref();
                    } else {
                        // A clone made (and dropped) on this thread.
                        let owned = waker.clone();
                        owned.wake();
                    }
                    let mut waiting = Waiting::new(t, k, "wake");
                    while state.seen[t].load(Ordering::SeqCst) < k {
                        waiting.check();
                        if rng.below(8) == 0 {
                            // sleep: a pause of random length, only to vary
                            // when the next wake comes against the poll;
                            // every wake is checked the same way.
                            thread::sleep(Duration::from_micros(rng.below(50)));
                        } else {
                            thread::yield_now();
                        }
                    }
                }
                finished.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let lp = EventLoop::new().unwrap();
    let polls = lp.run_async(WokenFromThreads {
        state: state.clone(),
        wakes_per_thread,
    });
    for t in threads {
        t.join().expect("every wake was followed by a poll");
    }
    assert_eq!(finished.load(Ordering::SeqCst), THREADS);
    let wakes = wakes_per_thread * THREADS as u64;
    assert!(
        polls <= wakes + 1,
        "{polls} polls for {wakes} wakes: a poll without a wake"
    );
    assert_eq!(lp.live_tasks(), 0, "the task completed and was taken");
    // The stored waker (and the threads' clones, now dropped) must not keep
    // the finished loop alive.
    drop(state.waker.lock().unwrap().take());
    assert!(!lp.is_alive());
    println!("{wakes} cross-thread wakes from {THREADS} threads, {polls} polls");
}

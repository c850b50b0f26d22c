//! Loop behaviour, modelled on libuv's own test suite (test-timer.c,
//! test-loop-alive.c, test-loop-stop.c, test-run-once.c, test-run-nowait.c,
//! test-idle.c) plus Node's rules for immediates, ticks and uncaught errors.
//!
//! Nothing here depends on who wins a race against the wall clock (the
//! suite must pass on a busy machine and under valgrind): an order that does
//! not need the real clock is checked on virtual time ([`virtual_loop`],
//! with `evloop::block_for` standing for a callback that takes time); on
//! real time the tests assert order within a phase, lower bounds on elapsed
//! time and counts, never an upper bound on wall time.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common;
use crate::common::panic_message;
use crate::common::virtual_loop;

use evloop::{
    EventLoop, Immediate, LoopHandle, PostError, RunMode, TIMEOUT_MAX, Timer, UncaughtPanic,
    clear_immediate, clear_interval, clear_timeout, next_tick, queue_microtask, set_immediate,
    set_interval, set_timeout, set_uncaught_panic_handler,
};

// ---------------------------------------------------------------------------
// helpers

thread_local! {
    /// Events recorded by the test running on this thread (each test runs on
    /// its own thread, and the loop runs on the test's thread).
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn log(s: impl Into<String>) {
    let s = s.into();
    LOG.with(|l| l.borrow_mut().push(s));
}

fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A delay no run of this suite reaches (the watchdog ends a test long
/// before): a timer that must not fire while something else happens.
const NEVER: u32 = TIMEOUT_MAX;

/// A loop on virtual time (design.md, "Time"): the clock stands still while
/// callbacks run, moves by exactly `d` in `block_for(d)`, and jumps to the
/// next timer when the loop would wait. Orders that a slow machine would
/// change on the real clock come out the same on every run.
type Panics = Rc<RefCell<Vec<(String, String)>>>;

/// A panic handler recording (message, file of the scheduling site).
fn recording_handler(panics: &Panics) -> impl FnMut(UncaughtPanic) + 'static {
    let panics = panics.clone();
    move |p: UncaughtPanic| {
        panics.borrow_mut().push((
            p.message().unwrap_or("<none>").to_string(),
            p.site().file().to_string(),
        ))
    }
}

// ---------------------------------------------------------------------------
// timers (test-timer.c)

/// Checks, inside a timer callback, that it did not fire early.
fn assert_not_early(delay: u64, scheduled_at: u64, wall_start: Instant) {
    let now = evloop::now();
    assert!(
        now >= scheduled_at + delay,
        "{delay} ms timer fired at loop time {now}, scheduled at {scheduled_at}"
    );
    // test-timer.c `timer_early_check`: the high-resolution clock agrees.
    let hr_ms = evloop::hrtime() / 1_000_000;
    assert!(
        hr_ms >= scheduled_at + delay,
        "{delay} ms timer fired at hrtime {hr_ms} ms, scheduled at {scheduled_at}"
    );
    let elapsed = wall_start.elapsed();
    assert!(
        elapsed + ms(1) >= ms(delay),
        "{delay} ms timer fired after only {elapsed:?} of wall time"
    );
}

const EARLY_DELAYS: [u64; 4] = [1, 5, 20, 50];

fn schedule_early_checks(round: &'static str, wall_start: Instant, counts: &Rc<[Cell<u32>; 8]>) {
    let scheduled_at = evloop::now();
    for (i, &d) in EARLY_DELAYS.iter().enumerate() {
        let counts = counts.clone();
        let slot = if round == "main" { i } else { i + 4 };
        set_timeout(d, move || {
            assert_not_early(d, scheduled_at, wall_start);
            counts[slot].set(counts[slot].get() + 1);
            log(format!("{round}:{d}"));
        });
    }
}

#[test]
fn timer_never_fires_early_and_never_twice() {
    let _w = common::watchdog();
    let counts: Rc<[Cell<u32>; 8]> = Rc::new(Default::default());
    let c = counts.clone();
    evloop::run(move || {
        // Round 1: from the main script, wall clock read right before.
        let start = Instant::now();
        schedule_early_checks("main", start, &c);
        // Round 2: from an immediate. The wall clock is read one iteration
        // earlier, so it is certainly before the iteration that schedules.
        let c = c.clone();
        set_timeout(60, move || {
            set_immediate(move || {
                let start = Instant::now();
                set_immediate(move || schedule_early_checks("immediate", start, &c));
            });
        });
    });
    for (i, c) in counts.iter().enumerate() {
        assert_eq!(c.get(), 1, "timer #{i} fired {} times", c.get());
    }
    assert_eq!(
        take_log(),
        [
            "main:1",
            "main:5",
            "main:20",
            "main:50",
            "immediate:1",
            "immediate:5",
            "immediate:20",
            "immediate:50"
        ]
    );
}

/// libuv updates the loop time after every poll (`uv__io_poll` calls
/// `uv__update_time` right after `epoll_wait`), so a timer scheduled by a
/// callback that runs after the loop blocked (an I/O callback, a cross-thread
/// post) counts its delay from when the loop woke up, not from before it
/// went to sleep.
#[test]
fn timer_scheduled_after_a_blocking_poll_never_fires_early() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    // Makes the loop read its clock, then block in poll. The posted timer
    // clears it, so however late the post lands (a busy machine, valgrind)
    // it cannot fire first.
    let keeper = lp.enter(|| set_timeout(NEVER, || log("keeper")));
    let poster = thread::spawn(move || {
        // sleep: the loop blocks in poll meanwhile. What the closure checks
        // (loop time >= 100 ms when it runs, its timer not early) holds
        // however long the post then takes to land.
        thread::sleep(ms(100));
        handle
            .post(move || {
                // This runs in the poll phase, after >= 100 ms of blocking.
                let start = Instant::now();
                let scheduled_at = evloop::now();
                assert!(
                    scheduled_at >= 100,
                    "loop time in a closure posted after the loop blocked for 100 ms \
                     is {scheduled_at} ms: not updated after the poll (hrtime {} ms)",
                    evloop::hrtime() / 1_000_000
                );
                set_timeout(50, move || {
                    log("posted timer");
                    assert_not_early(50, scheduled_at, start);
                    keeper.clear();
                });
            })
            .unwrap();
    });
    lp.run(RunMode::Default);
    poster.join().unwrap();
    assert_eq!(take_log(), ["posted timer"]);
}

/// test-timer.c `timer_start_twice`'s case with Node's `refresh()`: a
/// 30 ms timer refreshed by a 20 ms one, and a 40 ms sentinel between its
/// old deadline and its new one. Each logs the loop time it ran at.
fn schedule_refresh_case() {
    let refreshed = set_timeout(30, || log(format!("refreshed at +{}", evloop::now())));
    set_timeout(40, || log(format!("sentinel at +{}", evloop::now())));
    set_timeout(20, move || {
        log(format!("refresher at +{}", evloop::now()));
        assert_eq!(
            refreshed.refresh(),
            refreshed,
            "refresh() returns the timer"
        );
        assert!(refreshed.is_active(), "refresh() of a pending timer");
    });
}

#[test]
fn refresh_moves_a_pending_deadline_later() {
    let _w = common::watchdog();
    // On virtual time: on the real clock each set_timeout reads the clock
    // afresh, and a slow machine (valgrind) can take more than 10 ms to
    // create the three, so the refresher comes due after the timer it
    // refreshes.
    virtual_loop().run_main(schedule_refresh_case);
    assert_eq!(
        take_log(),
        ["refresher at +20", "sentinel at +40", "refreshed at +50"]
    );
    // What a busy machine does to that run: the loop gets to the timers
    // phase 45 ms late, with all three overdue. The refresh from the first
    // callback of that pass takes the 30 ms timer out of it (new deadline
    // +45+30), and the sentinel still runs in it.
    virtual_loop().run_main(|| {
        schedule_refresh_case();
        evloop::block_for(ms(45));
    });
    assert_eq!(
        take_log(),
        ["refresher at +45", "sentinel at +45", "refreshed at +75"]
    );

    // On the real clock: the refresher created first, so it is due first
    // however long the creating takes. The refreshed timer then fires no
    // earlier than 30 ms after the refresh (loop time), so at least 50 ms
    // after it was created (wall time too).
    let refreshed_at = Rc::new(Cell::new(None::<u64>));
    let r = refreshed_at.clone();
    evloop::run(move || {
        let start = Instant::now();
        let slot = Rc::new(Cell::new(None::<Timer>));
        let (s, r2) = (slot.clone(), r.clone());
        set_timeout(20, move || {
            log("refresher");
            assert!(
                s.get().unwrap().refresh().is_active(),
                "refresh() of a pending timer"
            );
            r2.set(Some(evloop::now()));
        });
        let t0 = evloop::now();
        slot.set(Some(set_timeout(30, move || {
            log("refreshed");
            let now = evloop::now();
            let at = r.get().expect("the refresh came first");
            assert!(now >= at + 30, "fired at loop {now}, refreshed at {at}");
            assert!(now >= t0 + 50, "fired at loop +{} ms", now - t0);
            assert!(
                start.elapsed() >= ms(49),
                "fired after {:?}",
                start.elapsed()
            );
        })));
    });
    assert_eq!(take_log(), ["refresher", "refreshed"]);
    assert!(refreshed_at.get().is_some());
}

/// The timers of `huge_and_invalid_timeouts_become_one_ms`: a 2 ms
/// sentinel, then one timer per delay outside `1..=2^31-1`, then an unref'd
/// `TIMEOUT_MAX` one. Each logs its name and checks it fired at least 1 ms
/// (2 ms for the sentinel) of loop time after it was created; `after`
/// collects (name, loop ms between creation and firing).
fn schedule_clamped_timers(after: &Rc<RefCell<Vec<(&'static str, u64)>>>) {
    fn timed(
        after: &Rc<RefCell<Vec<(&'static str, u64)>>>,
        name: &'static str,
        delay: impl Into<evloop::Delay>,
        min: u64,
    ) {
        let (a, created) = (after.clone(), Rc::new(Cell::new(0)));
        let c = created.clone();
        set_timeout(delay, move || {
            let dt = evloop::now() - c.get();
            assert!(dt >= min, "{name} fired {dt} ms after it was created");
            a.borrow_mut().push((name, dt));
            log(name);
        });
        // set_timeout read the clock afresh: its deadline counts from this.
        created.set(evloop::now());
    }
    timed(after, "2 ms sentinel", 2, 2);
    timed(after, "1 ms", 1, 1);
    timed(after, "2^31", 1u64 << 31, 1);
    timed(after, "i64::MAX", i64::MAX, 1);
    timed(after, "infinity", f64::INFINITY, 1);
    timed(after, "-1", -1, 1);
    timed(after, "0", 0, 1);
    timed(after, "NaN", f64::NAN, 1);
    timed(after, "u64::MAX", u64::MAX, 1);
    // The largest valid delay is not clamped: unref'd, it never fires
    // and does not keep the loop alive.
    set_timeout(TIMEOUT_MAX, || log("TIMEOUT_MAX fired")).unref();
}

#[test]
fn huge_and_invalid_timeouts_become_one_ms() {
    let _w = common::watchdog();
    // test-timer.c `timer_huge_timeout`, with Node's clamping: every delay
    // outside 1..=2^31-1 becomes 1 ms, so these all share the 1 ms deadline
    // and run in creation order, before a 2 ms timer created first.
    //
    // Each set_timeout reads the clock afresh (as Node's does), so timers
    // created one after the other share a millisecond deadline only when
    // creating them takes no time: on virtual time, where the clock stands
    // still while the script runs.
    let after = Rc::new(RefCell::new(Vec::new()));
    let a = after.clone();
    virtual_loop().run_main(move || schedule_clamped_timers(&a));
    let clamped = [
        "1 ms", "2^31", "i64::MAX", "infinity", "-1", "0", "NaN", "u64::MAX",
    ];
    let mut expected: Vec<&str> = clamped.to_vec();
    expected.push("2 ms sentinel");
    assert_eq!(take_log(), expected);
    let mut exactly: Vec<(&str, u64)> = clamped.iter().map(|&n| (n, 1)).collect();
    exactly.push(("2 ms sentinel", 2));
    assert_eq!(
        *after.borrow(),
        exactly,
        "(name, ms from creation to firing)"
    );

    // On the real clock, where creating them takes time (much of it on a
    // busy machine or under valgrind): none fires before 1 ms (checked in
    // each callback), the clamped ones run in creation order (each deadline
    // is at or after the one before), and TIMEOUT_MAX never fires. Where the
    // sentinel falls among them depends on how long the creating took.
    after.borrow_mut().clear();
    let a = after.clone();
    evloop::run(move || schedule_clamped_timers(&a));
    let order: Vec<String> = take_log()
        .into_iter()
        .filter(|n| n != "2 ms sentinel")
        .collect();
    assert_eq!(order, clamped);
    assert_eq!(after.borrow().len(), 9, "{:?}", after.borrow());
}

#[test]
fn equal_deadlines_run_in_creation_order() {
    let _w = common::watchdog();
    // test-timer.c `timer_order`. On virtual time, so that the deadlines
    // are really equal: on the real clock each set_timeout reads the clock
    // afresh, and a slow machine spreads them over several milliseconds.
    virtual_loop().run_main(|| {
        for i in 0..20 {
            set_timeout(3, move || log(format!("t{i}")));
        }
        assert_eq!(evloop::now(), 0, "the clock stood still");
    });
    let expected: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    assert_eq!(take_log(), expected);
}

// ---------------------------------------------------------------------------
// alive / stop / run modes (test-loop-alive.c, test-loop-stop.c,
// test-run-once.c, test-run-nowait.c)

#[test]
fn loop_alive_with_timers() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    assert!(!lp.is_alive(), "an empty loop is not alive");
    assert!(
        !lp.run(RunMode::Default),
        "run on an empty loop returns false"
    );

    let t = lp.enter(|| set_timeout(10_000, || log("never")));
    assert!(lp.is_alive(), "a pending referenced timer keeps it alive");
    assert!(lp.enter(|| t.has_ref()));
    lp.enter(|| t.unref());
    assert!(!lp.is_alive(), "an unref'd timer does not keep it alive");
    assert!(!lp.enter(|| t.has_ref()));
    assert!(!lp.run(RunMode::Default), "run returns at once");
    lp.enter(|| t.ref_());
    assert!(lp.is_alive(), "ref_() restores keep-alive");
    lp.enter(|| t.clear());
    assert!(!lp.is_alive(), "a cleared timer does not keep it alive");
    assert!(!lp.enter(|| t.has_ref()));

    // A timer that fired no longer keeps the loop alive.
    lp.enter(|| set_timeout(1, || log("fired")));
    assert!(lp.is_alive());
    assert!(!lp.run(RunMode::Default));
    assert!(!lp.is_alive());
    assert_eq!(take_log(), ["fired"]);
}

#[test]
fn loop_handle_keeps_the_loop_alive_until_dropped() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    assert!(handle.has_ref());
    assert!(
        lp.is_alive(),
        "a referenced LoopHandle keeps the loop alive"
    );

    // Dropped from a timer callback: run then returns.
    let slot: Rc<RefCell<Option<LoopHandle>>> = Rc::new(RefCell::new(Some(handle)));
    let s = slot.clone();
    let start = Instant::now();
    lp.enter(|| {
        set_timeout(20, move || {
            log("dropping handle");
            drop(s.borrow_mut().take());
        })
    });
    assert!(!lp.run(RunMode::Default));
    assert!(start.elapsed() >= ms(19));
    assert_eq!(take_log(), ["dropping handle"]);
    assert!(!lp.is_alive());

    // Dropped on another thread while the loop is blocked with nothing else
    // to do: the drop wakes it and run returns.
    let handle = lp.handle();
    let start = Instant::now();
    let t = thread::spawn(move || {
        // sleep: lets the loop block first (if it has not by then, run
        // returns all the same once the handle is gone); the lower bound
        // below counts from before the sleep.
        thread::sleep(ms(30));
        drop(handle);
    });
    assert!(!lp.run(RunMode::Default));
    assert!(start.elapsed() >= ms(29));
    t.join().unwrap();

    // An unref'd handle does not keep it alive, but its posts still run while
    // something else does. On virtual time: the post waits in the channel
    // while the thread is spawned and joined, which may take longer than
    // the timer's 30 ms on the real clock, and the post must come first.
    let lp = virtual_loop();
    let mut weak = lp.handle();
    weak.unref();
    assert!(!weak.has_ref());
    assert!(!lp.is_alive());
    assert!(!lp.run(RunMode::Default));
    weak.ref_();
    assert!(lp.is_alive());
    weak.unref();
    assert!(!lp.is_alive());
    lp.enter(|| set_timeout(30, || log("timer")));
    let w2 = weak.clone();
    let t = thread::spawn(move || {
        w2.post(|| log("posted via unref'd handle")).unwrap();
    });
    t.join().unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(take_log(), ["posted via unref'd handle", "timer"]);
}

#[test]
fn stop_returns_alive_and_run_continues() {
    let _w = common::watchdog();
    // test-loop-stop.c `loop_stop`.
    let lp = EventLoop::new().unwrap();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    lp.enter(|| {
        let me: Rc<Cell<Option<Timer>>> = Rc::new(Cell::new(None));
        let m = me.clone();
        let iv = set_interval(1, move || {
            c.set(c.get() + 1);
            if c.get() == 3 {
                evloop::stop();
            }
            if c.get() == 6 {
                clear_interval(m.get().unwrap());
            }
        });
        me.set(Some(iv));
    });
    assert!(lp.run(RunMode::Default), "stopped, still alive");
    assert_eq!(
        count.get(),
        3,
        "stop() ends the run after the current iteration"
    );
    assert!(lp.run(RunMode::NoWait), "still alive after a NoWait run");
    assert!(
        !lp.run(RunMode::Default),
        "finishes once the interval is cleared"
    );
    assert_eq!(count.get(), 6);
}

#[test]
fn stop_before_run() {
    let _w = common::watchdog();
    // test-loop-stop.c `loop_stop_before_run`: run returns at once, alive.
    let lp = EventLoop::new().unwrap();
    lp.enter(|| set_timeout(0, || log("timer")));
    lp.stop();
    assert!(lp.run(RunMode::Default));
    assert!(take_log().is_empty(), "no iteration ran after stop()");
    // The stop request was consumed.
    assert!(!lp.run(RunMode::Default));
    assert_eq!(take_log(), ["timer"]);
}

#[test]
fn run_nowait_does_not_block() {
    let _w = common::watchdog();
    // test-run-nowait.c. With only a referenced handle pending, a Default
    // run would block for ever: NoWait returns (else the watchdog fails
    // the test), alive.
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    for _ in 0..3 {
        assert!(lp.run(RunMode::NoWait), "the handle keeps it alive");
    }
    drop(handle);
    assert!(!lp.run(RunMode::NoWait));

    // With a timer not yet due: NoWait does not wait for it, and does not run
    // it. On virtual time, where waiting would jump the clock to the deadline
    // and run the timer: the clock stays where it was.
    let lp = virtual_loop();
    lp.enter(|| set_timeout(10_000, || log("timer")));
    assert!(lp.run(RunMode::NoWait), "timer still pending: alive");
    assert!(
        take_log().is_empty(),
        "NoWait must not run a timer not yet due"
    );
    // Several NoWait runs in a row still do not fire it early.
    for _ in 0..10 {
        assert!(lp.run(RunMode::NoWait));
    }
    assert!(take_log().is_empty());
    assert_eq!(lp.now(), 0, "NoWait moved the clock: it waited");
    // The same on the real clock: the timer runs only once its 10 s passed.
    let lp = EventLoop::new().unwrap();
    let start = Instant::now();
    lp.enter(|| set_timeout(10_000, || log("timer")));
    for _ in 0..10 {
        assert!(lp.run(RunMode::NoWait));
    }
    assert!(take_log().is_empty() || start.elapsed() >= ms(9_999));
    // Clean up without waiting.
    drop(lp);
}

#[test]
fn run_once_blocks_until_the_timer_fires() {
    // test-run-once.c / test-timer.c `timer_run_once`: UV_RUN_ONCE promises
    // forward progress; in libuv 1.46 a ONCE run runs the timers once, after
    // the poll (and the check and close phases), so a run that blocked for a
    // timer also runs it.
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let start = Instant::now();
    lp.enter(|| set_timeout(50, || log("50 ms")));
    let alive = lp.run(RunMode::Once);
    let elapsed = start.elapsed();
    assert_eq!(
        (take_log(), alive),
        (vec!["50 ms".to_string()], false),
        "run(Once) with only a 50 ms timer pending must block until it fires, run it \
         and return false (returned after {elapsed:?})"
    );
    assert!(elapsed >= ms(49), "{elapsed:?}");

    // Same with a 0 ms (= 1 ms) timer.
    lp.enter(|| set_timeout(0, || log("0 ms")));
    let alive = lp.run(RunMode::Once);
    assert_eq!((take_log(), alive), (vec!["0 ms".to_string()], false));
}

#[test]
fn run_once_makes_progress_for_a_timer_beyond_a_wheel_boundary() {
    // The same forward-progress promise for a deadline that does not fall in
    // the first 64 ms: one run(Once) blocks until the timer is due and runs
    // it, rather than returning early having run nothing.
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let start = Instant::now();
    lp.enter(|| set_timeout(100, || log("100 ms")));
    let alive = lp.run(RunMode::Once);
    let elapsed = start.elapsed();
    assert_eq!(
        (take_log(), alive),
        (vec!["100 ms".to_string()], false),
        "run(Once) with only a 100 ms timer pending returned after {elapsed:?} \
         (loop time {} ms) without running it",
        lp.now()
    );
    assert!(elapsed >= ms(99), "{elapsed:?}");
}

#[test]
fn run_once_repeatedly_drives_a_chain_of_immediates() {
    let _w = common::watchdog();
    // test-run-once.c: `while (uv_run(loop, UV_RUN_ONCE));` with an idle
    // handle that stops after NUM_TICKS.
    fn chain(n: u32) {
        set_immediate(move || {
            log(format!("{n}"));
            if n < 63 {
                chain(n + 1);
            }
        });
    }
    let lp = EventLoop::new().unwrap();
    lp.enter(|| chain(0));
    let mut runs = 0;
    while lp.run(RunMode::Once) {
        runs += 1;
        assert!(runs < 1000);
    }
    assert_eq!(runs, 63, "one immediate per run(Once)");
    assert_eq!(take_log().len(), 64);
}

// ---------------------------------------------------------------------------
// run modes as libuv 1.46's uv_run (issue 18): DEFAULT runs the timers once
// before the first iteration and after each close phase; ONCE and NOWAIT run
// them once, after the close phase.

/// An interval whose deadline has passed (by two periods) when one run
/// starts fires once in that run, whatever the mode.
fn overdue_interval_runs(mode: RunMode) -> (u32, bool) {
    let lp = virtual_loop();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    lp.enter(|| {
        let _interval = set_interval(10, move || c.set(c.get() + 1));
        // uv_sleep(timeout_ms * 2)
        evloop::block_for(ms(20));
    });
    let alive = lp.run(mode);
    (calls.get(), alive)
}

#[test]
fn timer_no_double_call_once() {
    let _w = common::watchdog();
    // test-timer.c (libuv 1.46):
    //   uv_timer_start(&timer_handle, timer_check_double_call,
    //                  timeout_ms, timeout_ms);          /* 10, 10 */
    //   uv_sleep(timeout_ms * 2);
    //   ASSERT_EQ(1, uv_run(uv_default_loop(), UV_RUN_ONCE));
    //   ASSERT_EQ(1, timer_check_double_call_called);
    assert_eq!(overdue_interval_runs(RunMode::Once), (1, true));
}

#[test]
fn timer_no_double_call_nowait() {
    let _w = common::watchdog();
    // test-timer.c `timer_no_double_call_nowait`: the same with
    //   ASSERT_EQ(1, uv_run(uv_default_loop(), UV_RUN_NOWAIT));
    assert_eq!(overdue_interval_runs(RunMode::NoWait), (1, true));
}

#[test]
fn timer_no_run_on_unref() {
    let _w = common::watchdog();
    // test-timer.c `timer_no_run_on_unref`:
    //   uv_timer_start(&timer_handle, (uv_timer_cb) abort, 0, 0);
    //   uv_unref((uv_handle_t*) &timer_handle);
    //   ASSERT_EQ(uv_run(uv_default_loop(), UV_RUN_DEFAULT), 0);
    // A loop that is not alive runs no timers phase at all.
    let lp = virtual_loop();
    lp.enter(|| {
        set_timeout(0, || panic!("an unreferenced timer ran")).unref();
        evloop::block_for(ms(5));
    });
    assert!(!lp.run(RunMode::Default));
}

#[test]
fn once_and_nowait_run_the_timers_after_the_check_phase() {
    let _w = common::watchdog();
    // uv_run 1.46: in ONCE and NOWAIT mode the only timers phase is the one
    // after uv__run_check and uv__run_closing_handles; DEFAULT runs one
    // before the first iteration. An overdue timer and an immediate queued
    // together: DEFAULT runs the timer first, the others the immediate.
    for (mode, expected) in [
        (RunMode::Default, ["timer", "immediate"]),
        (RunMode::Once, ["immediate", "timer"]),
        (RunMode::NoWait, ["immediate", "timer"]),
    ] {
        let lp = virtual_loop();
        lp.enter(|| {
            set_timeout(1, || log("timer"));
            set_immediate(|| log("immediate"));
            evloop::block_for(ms(5));
        });
        assert!(!lp.run(mode), "{mode:?}");
        assert_eq!(take_log(), expected, "{mode:?}");
    }
}

#[test]
fn stop_in_the_check_phase_still_runs_the_timers_of_that_iteration() {
    let _w = common::watchdog();
    // uv_stop sets stop_flag, read by `while (r != 0 && loop->stop_flag == 0)`
    // only after the iteration's closing handles and timers ran.
    let lp = virtual_loop();
    lp.enter(|| {
        set_timeout(5, || log("timer"));
        set_timeout(NEVER, || log("never"));
        set_immediate(|| {
            evloop::block_for(ms(10));
            evloop::stop();
            log("immediate stops");
        });
    });
    assert!(lp.run(RunMode::Default), "stopped, still alive");
    assert_eq!(take_log(), ["immediate stops", "timer"]);
    // A run after stop() was consumed (`stop_flag = 0`) but before it: the
    // flag makes DEFAULT skip even its first timers phase.
    lp.enter(|| set_timeout(1, || log("timer 2")));
    lp.enter(|| evloop::block_for(ms(5)));
    lp.stop();
    assert!(lp.run(RunMode::Default));
    assert!(take_log().is_empty(), "no timers phase after stop()");
}

#[test]
fn loop_update_time() {
    let _w = common::watchdog();
    // test-loop-time.c `loop_update_time`:
    //   start = uv_now(uv_default_loop());
    //   while (uv_now(uv_default_loop()) - start < 1000)
    //     ASSERT_EQ(0, uv_run(uv_default_loop(), UV_RUN_NOWAIT));
    // A run of a loop with nothing to do still updates its time
    // (`if (!r) uv__update_time(loop);`). On virtual time: each round reads
    // the time (so the cached value is fresh), lets 100 ms pass
    // (`block_for`), then runs the idle loop in each mode; then once on the
    // real clock (a lower bound only).
    let lp = virtual_loop();
    let start = lp.now();
    let mut runs = 0;
    while lp.now() - start < 1000 {
        runs += 1;
        assert!(runs <= 10, "now() stays at {} ms", lp.now());
        for mode in [RunMode::NoWait, RunMode::Once, RunMode::Default] {
            lp.enter(|| {
                let _fresh = evloop::now();
                evloop::block_for(ms(100));
            });
            assert!(!lp.run(mode));
        }
    }
    assert_eq!(
        (lp.now(), runs),
        (1200, 4),
        "4 rounds of 3 runs, 100 ms each"
    );

    let lp = EventLoop::new().unwrap();
    let before = lp.now();
    // sleep: the real time that a run of the idle loop must see; only a lower
    // bound is checked, so the order does not depend on how long it takes.
    thread::sleep(ms(5));
    assert!(!lp.run(RunMode::NoWait));
    // (Whole milliseconds: 5 ms later the floor moved by at least 4.)
    assert!(lp.now() >= before + 4, "{} -> {}", before, lp.now());
}

#[test]
fn loop_backend_timeout() {
    let _w = common::watchdog();
    // test-loop-time.c `loop_backend_timeout` (the default loop's internal
    // watchers left out):
    //   ASSERT_EQ(uv_loop_alive(loop), 0);
    //   ASSERT_EQ(uv_backend_timeout(loop), 0);
    //   r = uv_timer_start(&timer, cb, 1000, 0); /* 1 sec */
    //   ASSERT_EQ(uv_backend_timeout(loop), 1000);
    //   r = uv_run(loop, UV_RUN_DEFAULT);
    //   ASSERT_EQ(r, 0);
    //   ASSERT_EQ(uv_backend_timeout(loop), 0);
    // Known difference (design.md): a loop with nothing alive has no
    // deadline (`None`) where libuv says 0, so that an embedding host that
    // outlives the loop's work does not spin.
    let lp = virtual_loop();
    assert!(!lp.is_alive());
    assert_eq!(lp.backend_timeout(), None);
    lp.enter(|| set_timeout(1000, || log("1 s")));
    assert_eq!(lp.backend_timeout(), Some(ms(1000)));
    assert!(!lp.run(RunMode::Default));
    assert_eq!(take_log(), ["1 s"]);
    assert_eq!(lp.backend_timeout(), None);
    // Unreferenced work does not make a deadline: `run` would not run it
    // (the loop is not alive), so zero would make a host spin.
    lp.enter(|| {
        set_immediate(|| log("unref'd immediate")).unref();
        set_timeout(10, || log("unref'd timer")).unref();
    });
    assert!(!lp.is_alive());
    assert_eq!(lp.backend_timeout(), None);
    assert!(!lp.run(RunMode::NoWait));
    assert!(take_log().is_empty());
}

/// Known difference (design.md): a next tick that panics into the handler
/// does not stop the drain. Node's does, when the drain runs between two
/// immediates: the rest of the tick and microtask queues wait for the next
/// immediate's drain. (Between two timers Node goes on draining, as evloop.)
///
/// ```js
/// process.on('uncaughtException', (e) => console.log('handler: ' + e.message));
/// setImmediate(() => {
///   console.log('immediate 1');
///   process.nextTick(() => {
///     console.log('tick A throws');
///     process.nextTick(() => console.log('tick from A'));
///     queueMicrotask(() => console.log('microtask from A'));
///     throw new Error('A');
///   });
///   process.nextTick(() => console.log('tick B'));
///   queueMicrotask(() => console.log('microtask M'));
/// });
/// setImmediate(() => console.log('immediate 2'));
/// ```
/// Node 20 prints: immediate 1, tick A throws, handler: A, immediate 2,
/// tick B, tick from A, microtask M, microtask from A.
#[test]
fn a_tick_that_panics_into_the_handler_does_not_stop_the_drain() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.enter(|| {
        set_uncaught_panic_handler(Some(Box::new(|p: UncaughtPanic| {
            log(format!("handler: {}", p.message().unwrap_or("?")));
        })));
        set_immediate(|| {
            log("immediate 1");
            next_tick(|| {
                log("tick A throws");
                next_tick(|| log("tick from A"));
                queue_microtask(|| log("microtask from A"));
                panic!("A");
            });
            next_tick(|| log("tick B"));
            queue_microtask(|| log("microtask M"));
        });
        set_immediate(|| log("immediate 2"));
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(
        take_log(),
        [
            "immediate 1",
            "tick A throws",
            "handler: A",
            "tick B",
            "tick from A",
            "microtask M",
            "microtask from A",
            "immediate 2",
        ]
    );
}

// ---------------------------------------------------------------------------
// immediates and ticks (test-idle.c `idle_starvation`, Node's queues)

/// A chain of immediates, one per check phase, until `stop`; each holds the
/// loop for `busy` (`block_for`: on virtual time, the clock moves by that).
fn spin_immediates(stop: Rc<Cell<bool>>, count: Rc<Cell<u64>>, busy: Duration) {
    set_immediate(move || {
        count.set(count.get() + 1);
        if !busy.is_zero() {
            evloop::block_for(busy);
        }
        if !stop.get() {
            spin_immediates(stop, count, busy);
        }
    });
}

/// Starts a chain of immediates and a 10 ms timer that stops it, logging
/// how many immediates ran before it.
fn immediates_and_a_timer(count: &Rc<Cell<u64>>, busy: Duration) {
    let stop = Rc::new(Cell::new(false));
    spin_immediates(stop.clone(), count.clone(), busy);
    let c = count.clone();
    set_timeout(10, move || {
        log(format!("timer after {} immediates", c.get()));
        stop.set(true);
    });
}

#[test]
fn immediates_do_not_starve_timers() {
    let _w = common::watchdog();
    // On virtual time each immediate takes 1 ms: the check phase runs only
    // the immediates queued when it began, so each iteration reaches the
    // timers phase, and the timer runs in the 11th, once 10 have run (the
    // 11th immediate, queued before the timer stopped the chain, runs last).
    let count = Rc::new(Cell::new(0u64));
    let c = count.clone();
    virtual_loop().run_main(move || immediates_and_a_timer(&c, ms(1)));
    assert_eq!(take_log(), ["timer after 10 immediates"]);
    assert_eq!(count.get(), 11);

    // On the real clock, with immediates that take no time: the run ends
    // (else the watchdog fails the test), with the timer run once, not
    // early. How many immediates ran before it depends on the machine's
    // speed (none, if it is slow enough to find the timer due at once).
    let count = Rc::new(Cell::new(0u64));
    let c = count.clone();
    let start = Instant::now();
    evloop::run(move || immediates_and_a_timer(&c, Duration::ZERO));
    assert!(start.elapsed() >= ms(9));
    let out = take_log();
    assert_eq!(out.len(), 1, "the timer fired once: {out:?}");
    assert!(
        count.get() >= 1,
        "the immediate chain ran {} times",
        count.get()
    );
}

fn tick_chain(depth: u32, count: Rc<Cell<u32>>) {
    if depth == 1000 {
        return;
    }
    next_tick(move || {
        count.set(count.get() + 1);
        tick_chain(depth + 1, count);
    });
}

#[test]
fn recursive_next_ticks_drain_before_an_immediate() {
    let _w = common::watchdog();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    // On virtual time: on the real clock a slow machine (valgrind) spends
    // more than 5 ms on the main script's 1000 ticks, and the timers then
    // run before the first immediate.
    virtual_loop().run_main(move || {
        let c2 = c.clone();
        set_immediate(move || log(format!("immediate after {} ticks", c2.get())));
        tick_chain(0, c.clone());
        // Also from inside a timer callback: before the next timer of the
        // same pass and before the check phase.
        let c3 = c.clone();
        set_timeout(5, move || {
            c3.set(0);
            tick_chain(0, c3.clone());
            let c4 = c3.clone();
            set_immediate(move || log(format!("2nd immediate after {} ticks", c4.get())));
        });
        let c5 = c.clone();
        set_timeout(5, move || {
            log(format!("sibling timer after {} ticks", c5.get()))
        });
    });
    assert_eq!(
        take_log(),
        [
            "immediate after 1000 ticks",
            "sibling timer after 1000 ticks",
            "2nd immediate after 1000 ticks"
        ]
    );
    assert_eq!(count.get(), 1000);
}

#[test]
fn clear_immediate_before_it_runs() {
    let _w = common::watchdog();
    let imm: Rc<Cell<Option<Immediate>>> = Rc::new(Cell::new(None));
    let i = imm.clone();
    evloop::run(move || {
        // Cleared right away: never runs, and does not keep the loop alive.
        let a = set_immediate(|| log("cleared in main"));
        assert!(a.has_ref());
        clear_immediate(a);
        assert!(!a.has_ref());
        clear_immediate(a); // twice: harmless

        // Cleared by an earlier immediate of the same check phase.
        let i2 = i.clone();
        set_immediate(move || {
            log("first");
            i2.get().unwrap().clear();
        });
        i.set(Some(set_immediate(|| log("cleared by first"))));
        set_immediate(|| log("third"));
    });
    assert_eq!(take_log(), ["first", "third"]);
    // The handle of an immediate that was cleared (or already ran) is inert
    // on a later loop.
    evloop::run(move || imm.get().unwrap().clear());

    // Only a cleared immediate pending: the loop is not alive.
    let lp = EventLoop::new().unwrap();
    let a = lp.enter(|| set_immediate(|| log("x")));
    assert!(lp.is_alive());
    lp.enter(|| a.clear());
    assert!(!lp.is_alive());
    assert!(!lp.run(RunMode::Default));
    assert!(take_log().is_empty());
}

#[test]
fn unref_immediate_lets_the_loop_exit() {
    let _w = common::watchdog();
    evloop::run(|| {
        let i = set_immediate(|| log("unref'd immediate"));
        i.unref();
        assert!(!i.has_ref());
    });
    assert!(take_log().is_empty(), "the loop exited without running it");

    // It still runs while something else keeps the loop alive. (On virtual
    // time: on the real clock a slow machine can reach the first timers
    // phase after 5 ms, and the timer then runs before the check phase.)
    virtual_loop().run_main(|| {
        set_immediate(|| log("unref'd immediate")).unref();
        set_timeout(5, || log("timer"));
    });
    assert_eq!(take_log(), ["unref'd immediate", "timer"]);

    // ref_() restores keep-alive.
    evloop::run(|| {
        let i = set_immediate(|| log("re-ref'd immediate"));
        i.unref();
        i.ref_();
        assert!(i.has_ref());
    });
    assert_eq!(take_log(), ["re-ref'd immediate"]);
}

// ---------------------------------------------------------------------------
// cross-thread posts

thread_local! {
    static POSTED: RefCell<Vec<(usize, u32)>> = const { RefCell::new(Vec::new()) };
}

#[test]
fn cross_thread_posts_arrive_exactly_once_in_per_thread_order() {
    let _w = common::watchdog();
    const THREADS: usize = 4;
    const POSTS: u32 = 10_000;
    POSTED.with(|p| p.borrow_mut().clear());
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let h = handle.clone();
            thread::spawn(move || {
                for i in 0..POSTS {
                    h.post(move || POSTED.with(|p| p.borrow_mut().push((t, i))))
                        .expect("loop alive");
                }
            })
        })
        .collect();
    drop(handle);
    // Nothing else is pending: the handles keep the loop alive, and it exits
    // when every thread dropped its handle and every post ran.
    assert!(!lp.run(RunMode::Default));
    for t in threads {
        t.join().unwrap();
    }
    let got = POSTED.with(|p| std::mem::take(&mut *p.borrow_mut()));
    assert_eq!(got.len(), THREADS * POSTS as usize);
    let mut next = [0u32; THREADS];
    for (t, i) in got {
        assert_eq!(i, next[t], "thread {t}: post {i} arrived out of order");
        next[t] += 1;
    }
    assert_eq!(next, [POSTS; THREADS]);
}

#[test]
fn post_after_the_loop_is_dropped_fails() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let token = Arc::new(());
    // A post that never ran is dropped with the loop (its destructor runs).
    let t = token.clone();
    handle.post(move || drop(t)).unwrap();
    assert_eq!(Arc::strong_count(&token), 2);
    drop(lp);
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the unrun post was dropped with the loop"
    );
    let t = token.clone();
    let r = handle.post(move || drop(t));
    assert_eq!(r, Err(PostError));
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the rejected closure was dropped"
    );
    // From another thread too, and through a clone.
    let h2 = handle.clone();
    let r = thread::spawn(move || h2.post(|| {})).join().unwrap();
    assert_eq!(r, Err(PostError));
}

// ---------------------------------------------------------------------------
// panic policy

#[test]
fn unhandled_panic_in_timer_unwinds_out_of_run() {
    let _w = common::watchdog();
    let token = Rc::new(());
    let t = token.clone();
    // On virtual time: on the real clock a slow machine (valgrind) can reach
    // the first timers phase after 5 ms, so the timer panics before the
    // immediate runs. The loop is a local of the closure, dropped by the
    // unwind as evloop::run's is.
    let result = catch_unwind(AssertUnwindSafe(move || {
        virtual_loop().run_main(move || {
            set_timeout(5, || panic!("boom in timer"));
            set_timeout(50, move || {
                let _keep = &t;
                log("must not run");
            });
            set_immediate(|| log("immediate"));
        })
    }));
    let payload = result.expect_err("the panic unwinds out of evloop::run");
    assert_eq!(panic_message(&*payload), "boom in timer");
    assert_eq!(take_log(), ["immediate"]);
    // The loop was dropped during the unwind, with its timer.
    assert_eq!(Rc::strong_count(&token), 1);
    // And it is no longer this thread's current loop.
    let again = catch_unwind(evloop::now).expect_err("no loop is running now");
    assert!(panic_message(&*again).contains("no event loop running"));
}

#[test]
fn loop_can_run_again_after_an_unhandled_panic() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    lp.enter(|| {
        set_timeout(1, || log("a"));
        set_timeout(1, || panic!("b panics"));
        set_timeout(1, || log("c"));
        set_timeout(10, || log("d"));
    });
    let payload = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default)))
        .expect_err("the panic unwinds out of run");
    assert_eq!(panic_message(&*payload), "b panics");
    assert_eq!(take_log(), ["a"]);
    assert!(lp.is_alive(), "c and d are still pending");
    assert!(!lp.run(RunMode::Default));
    assert_eq!(take_log(), ["c", "d"]);
    drop(lp);
}

#[test]
fn ticks_left_by_an_unhandled_panic_run_before_the_next_callback() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    // A panic in a tick leaves the rest of that drain queued. Running again
    // goes on with what is still queued, in queue order: the next-tick and
    // microtask queues come before any other callback (the ordering that
    // `next_tick`'s documentation promises), so the leftovers run before
    // the next timer.
    lp.enter(|| {
        set_timeout(1, || {
            next_tick(|| panic!("tick panics"));
            next_tick(|| log("tick 2"));
            queue_microtask(|| log("microtask"));
        });
        set_timeout(1, || log("next timer"));
    });
    let payload = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default))).unwrap_err();
    assert_eq!(panic_message(&*payload), "tick panics");
    assert!(take_log().is_empty());
    assert!(!lp.run(RunMode::Default));
    assert_eq!(
        take_log(),
        ["tick 2", "microtask", "next timer"],
        "ticks/microtasks left by a panicking drain must run before the next callback"
    );
    drop(lp);
}

#[test]
fn handler_from_builder_reports_and_the_loop_goes_on() {
    let _w = common::watchdog();
    let panics: Panics = Rc::default();
    let lp = EventLoop::builder()
        .on_uncaught_panic(recording_handler(&panics))
        .build()
        .unwrap();
    let iv_runs = Rc::new(Cell::new(0u32));
    let r = iv_runs.clone();
    lp.run_main(move || {
        set_timeout(5, || panic!("timer 1"));
        set_timeout(5, || log("timer 2 (same pass)"));
        set_timeout(6, || {
            set_immediate(|| panic!("immediate 1"));
            set_immediate(|| log("immediate 2 (same check phase)"));
        });
        // A panicking interval keeps running (Node: the exception is
        // reported and the interval is re-armed).
        let me: Rc<Cell<Option<Timer>>> = Rc::new(Cell::new(None));
        let m = me.clone();
        let iv = set_interval(2, move || {
            r.set(r.get() + 1);
            if r.get() == 4 {
                clear_interval(m.get().unwrap());
            }
            panic!("interval run {}", r.get());
        });
        me.set(Some(iv));
    });
    assert_eq!(iv_runs.get(), 4, "the interval survived its panics");
    let out = take_log();
    assert!(out.contains(&"timer 2 (same pass)".to_string()), "{out:?}");
    assert!(
        out.contains(&"immediate 2 (same check phase)".to_string()),
        "{out:?}"
    );
    let panics = panics.borrow();
    let mut messages: Vec<&str> = panics.iter().map(|(m, _)| m.as_str()).collect();
    messages.sort_unstable();
    assert_eq!(
        messages,
        [
            "immediate 1",
            "interval run 1",
            "interval run 2",
            "interval run 3",
            "interval run 4",
            "timer 1"
        ]
    );
    for (m, file) in panics.iter() {
        assert!(
            file.ends_with("loop_behaviour.rs"),
            "site of {m:?} is {file}, expected this test file"
        );
    }
}

#[test]
fn handler_via_free_function_sees_every_kind_of_callback() {
    let _w = common::watchdog();
    let panics: Panics = Rc::default();
    let p = panics.clone();
    evloop::run(move || {
        let p2 = p.clone();
        set_uncaught_panic_handler(Some(Box::new(move |u: UncaughtPanic| {
            let msg = u.message().unwrap_or("<none>").to_string();
            log(format!("handler: {msg}"));
            p2.borrow_mut().push((msg, u.site().file().to_string()));
        })));
        next_tick(|| panic!("tick"));
        next_tick(|| log("tick 2"));
        queue_microtask(|| panic!("microtask"));
        queue_microtask(|| log("microtask 2"));
        set_immediate(|| panic!("immediate"));
        set_immediate(|| log("immediate 2"));
        set_timeout(1, || panic!("timer"));
        set_timeout(1, || log("timer 2"));
        let h = evloop::handle();
        // The thread keeps the loop alive with its handle until it posted.
        thread::spawn(move || {
            h.post(|| panic!("posted")).unwrap();
            h.post(|| log("posted 2")).unwrap();
        });
    });
    let out = take_log();
    // Each panic is reported right away, before the next callback runs.
    let pos = |s: &str| {
        out.iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s:?} missing from {out:?}"))
    };
    for (bad, next) in [
        ("tick", "tick 2"),
        ("microtask", "microtask 2"),
        ("immediate", "immediate 2"),
        ("timer", "timer 2"),
        ("posted", "posted 2"),
    ] {
        assert!(pos(&format!("handler: {bad}")) < pos(next), "{out:?}");
    }
    assert!(pos("tick 2") < pos("handler: microtask"), "{out:?}");
    let panics = panics.borrow();
    assert_eq!(panics.len(), 5, "{panics:?}");
    for (m, file) in panics.iter() {
        assert!(
            file.ends_with("loop_behaviour.rs"),
            "site of {m:?} is {file}, expected this test file"
        );
    }
}

#[test]
fn removing_the_handler_restores_the_default_policy() {
    let _w = common::watchdog();
    let payload = catch_unwind(|| {
        evloop::run(|| {
            set_uncaught_panic_handler(Some(Box::new(|_| log("handled"))));
            set_timeout(1, || panic!("first"));
            set_timeout(2, || set_uncaught_panic_handler(None));
            set_timeout(3, || panic!("second"));
            set_timeout(50, || log("never"));
        })
    })
    .unwrap_err();
    assert_eq!(panic_message(&*payload), "second");
    assert_eq!(take_log(), ["handled"]);
}

// ---------------------------------------------------------------------------
// dropping a loop

struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

#[test]
fn dropping_a_loop_drops_pending_callbacks() {
    let _w = common::watchdog();
    let token = Rc::new(());
    let lp = EventLoop::new().unwrap();
    lp.enter(|| {
        let t = token.clone();
        set_timeout(10_000, move || drop(t));
        let t = token.clone();
        let _iv = set_interval(10_000, move || {
            let _ = &t;
        });
        let t = token.clone();
        set_timeout(10_000, move || drop(t)).unref();
        let t = token.clone();
        set_immediate(move || drop(t));
        let t = token.clone();
        set_immediate(move || drop(t)).unref();
    });
    // Ticks and microtasks stay queued when the closure that queued them
    // panics (enter does not drain them then).
    let (t1, t2) = (token.clone(), token.clone());
    let r = catch_unwind(AssertUnwindSafe(|| {
        lp.enter(move || {
            next_tick(move || drop(t1));
            queue_microtask(move || drop(t2));
            panic!("main panics");
        })
    }));
    assert!(r.is_err());
    assert_eq!(Rc::strong_count(&token), 8);
    drop(lp);
    assert_eq!(
        Rc::strong_count(&token),
        1,
        "every pending closure was dropped"
    );
}

#[test]
fn destructors_that_call_back_into_the_loop_are_harmless_on_drop() {
    let _w = common::watchdog();
    let token = Rc::new(());
    let drops = Rc::new(Cell::new(0u32));
    let lp = EventLoop::new().unwrap();
    lp.enter(|| {
        let other = set_timeout(10_000, || log("other"));
        let other_iv = set_interval(10_000, || log("other interval"));
        let d = drops.clone();
        let t = token.clone();
        let guard = OnDrop(move || {
            d.set(d.get() + 1);
            clear_timeout(other);
            clear_interval(other_iv);
            other.refresh();
            other.unref();
            let _ = evloop::now();
            // Scheduling from a destructor during the drop: also dropped.
            let t = t.clone();
            set_timeout(1, move || drop(t));
            let t2 = Rc::new(());
            set_immediate(move || drop(t2));
            next_tick(|| log("tick from drop"));
        });
        set_timeout(10_000, move || drop(guard));
        let d = drops.clone();
        let guard2 = OnDrop(move || {
            d.set(d.get() + 1);
            clear_timeout(other);
            let _ = set_immediate(|| log("immediate from drop"));
        });
        set_immediate(move || drop(guard2));
    });
    drop(lp);
    assert_eq!(drops.get(), 2);
    assert_eq!(Rc::strong_count(&token), 1);
    assert!(take_log().is_empty(), "nothing ran during the drop");
}

// ---------------------------------------------------------------------------
// misuse

#[test]
fn scheduling_without_a_loop_panics() {
    let _w = common::watchdog();
    fn expect_no_loop(what: &str, f: impl FnOnce() + std::panic::UnwindSafe) {
        let payload = catch_unwind(f).expect_err(what);
        let msg = panic_message(&*payload);
        assert!(
            msg.contains("no event loop running"),
            "{what}: unexpected message {msg:?}"
        );
    }
    expect_no_loop("set_timeout", || {
        set_timeout(1, || {});
    });
    expect_no_loop("set_interval", || {
        let _ = set_interval(1, || {});
    });
    expect_no_loop("set_immediate", || {
        set_immediate(|| {});
    });
    expect_no_loop("next_tick", || next_tick(|| {}));
    expect_no_loop("queue_microtask", || queue_microtask(|| {}));
    expect_no_loop("now", || {
        evloop::now();
    });
    expect_no_loop("hrtime", || {
        evloop::hrtime();
    });
    expect_no_loop("handle", || {
        evloop::handle();
    });
    expect_no_loop("stop", evloop::stop);
    // A Timer handle outlives its loop; using it with no loop running panics.
    let t = evloop::run(|| set_timeout(1, || {}));
    expect_no_loop("Timer::clear", move || t.clear());
}

#[test]
fn nested_run_panics() {
    let _w = common::watchdog();
    evloop::run(|| {
        let in_main = catch_unwind(|| evloop::run(|| {})).unwrap_err();
        log(panic_message(&*in_main));
        set_timeout(1, || {
            let nested = catch_unwind(|| evloop::run(|| log("nested main ran"))).unwrap_err();
            log(panic_message(&*nested));
            let other = EventLoop::new().unwrap();
            let r = catch_unwind(AssertUnwindSafe(|| other.run(RunMode::Default))).unwrap_err();
            log(panic_message(&*r));
            let r = catch_unwind(AssertUnwindSafe(|| other.enter(|| ()))).unwrap_err();
            log(panic_message(&*r));
            set_timeout(1, || log("outer loop goes on"));
        });
    });
    let out = take_log();
    assert_eq!(out.len(), 5, "{out:?}");
    for m in &out[..4] {
        assert!(m.contains("already running"), "{m:?}");
    }
    assert_eq!(out[4], "outer loop goes on");
}

// ---------------------------------------------------------------------------
// clocks

#[test]
fn hrtime_is_monotonic_and_now_is_cached() {
    let _w = common::watchdog();
    evloop::run(|| {
        set_timeout(1, || {
            let n0 = evloop::now();
            let h0 = evloop::hrtime();
            let start = Instant::now();
            let mut last = h0;
            while start.elapsed() < ms(5) {
                let h = evloop::hrtime();
                assert!(h >= last, "hrtime went backwards: {last} -> {h}");
                last = h;
                assert_eq!(evloop::now(), n0, "now() changed within one callback");
            }
            assert_eq!(evloop::now(), n0);
            let h1 = evloop::hrtime();
            assert!(h1 - h0 >= 5_000_000, "hrtime advanced {} ns", h1 - h0);
            let hr_at_end = h1;
            // A later iteration sees the time that passed.
            set_timeout(1, move || {
                assert!(evloop::now() >= n0 + 5);
                assert!(evloop::hrtime() >= hr_at_end);
                log("next iteration");
            });
        });
    });
    assert_eq!(take_log(), ["next iteration"]);
}

#[test]
fn now_counts_from_loop_creation() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    // sleep: the time that must show; only a lower bound is checked.
    thread::sleep(ms(20));
    let n = lp.enter(evloop::now);
    assert!(n >= 20, "now() = {n}");
    assert!(lp.now() >= 20);
}

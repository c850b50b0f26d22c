//! Idle, prepare and check handles (`evloop::Idle`, `Prepare`, `Check`),
//! ported from libuv 1.46's tests (test-idle.c, test-loop-handles.c,
//! test-ref.c, test-run-once.c) with the C beside each port, and checked
//! against a libuv reference program with no Node in it
//! (`libuv/watcher_order.c`, whose output is `libuv/watcher_order.out`).
//!
//! On virtual time an idle handle spins the loop without moving the clock
//! (the poll never waits, so it never jumps to a timer): the ports let time
//! pass with `block_for` where libuv's tests let the real clock run.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

use crate::common::{self, panic_message, say, take_lines, virtual_loop};

use evloop::{
    Check, EventLoop, Idle, Prepare, RunMode, UncaughtPanic, set_immediate, set_interval,
    set_timeout,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------
// the order, against libuv

/// The state of `libuv/watcher_order.c`: its statics.
struct Order {
    iter: Cell<u32>,
    closed: Cell<u32>,
    idles: [Idle; 4],
    prepares: [Prepare; 2],
    checks: [Check; 2],
}

impl Order {
    fn on_close(self: &Rc<Self>, name: &'static str) -> impl FnOnce() + 'static {
        let s = self.clone();
        move || {
            // (libuv runs close callbacks in reverse order of the uv_close
            // calls, evloop in call order: only c1's, alone in its close
            // phase, is printed.)
            if name == "c1" {
                say("close c1");
            }
            s.closed.set(s.closed.get() + 1);
        }
    }

    fn idle_cb(self: &Rc<Self>) -> impl FnMut(Idle) + 'static {
        let s = self.clone();
        move |h| {
            let [i1, i2, i3, i4] = s.idles;
            let n = s.idles.iter().position(|&x| x == h).unwrap() + 1;
            say(format!("{} idle i{n}", s.iter.get()));
            if s.iter.get() == 1 && h == i3 {
                i4.start(s.idle_cb()); // started in the pass: next pass
                i1.stop(); // stopped before its turn: skipped
            }
            if s.iter.get() == 1 && h == i2 {
                i2.stop(); // restarted: to the head, next pass
                i2.start(s.idle_cb());
            }
        }
    }

    fn prepare_cb(self: &Rc<Self>) -> impl FnMut(Prepare) + 'static {
        let s = self.clone();
        move |h| {
            let n = s.prepares.iter().position(|&x| x == h).unwrap() + 1;
            say(format!("{} prepare p{n}", s.iter.get()));
            if n == 1 {
                s.iter.set(s.iter.get() + 1);
            }
        }
    }

    fn check_cb(self: &Rc<Self>) -> impl FnMut(Check) + 'static {
        let s = self.clone();
        move |h| {
            let n = s.checks.iter().position(|&x| x == h).unwrap() + 1;
            say(format!("{} check c{n}", s.iter.get()));
            if s.iter.get() == 2 && n == 2 {
                s.checks[0].close(s.on_close("c1"));
            }
            if s.iter.get() == 3 {
                for i in s.idles {
                    i.close(s.on_close("idle"));
                }
                for p in s.prepares {
                    p.close(s.on_close("prepare"));
                }
                h.close(s.on_close("c2"));
            }
        }
    }
}

#[test]
fn watcher_order_matches_libuv() {
    let _w = common::watchdog();
    // libuv/watcher_order.c, statement for statement: the order of the
    // handles within a pass, what a callback's start, stop, restart and
    // close do to the pass, and the phases' order.
    take_lines();
    let lp = virtual_loop();
    let s = lp.enter(|| {
        let s = Rc::new(Order {
            iter: Cell::new(0),
            closed: Cell::new(0),
            idles: [Idle::new(), Idle::new(), Idle::new(), Idle::new()],
            prepares: [Prepare::new(), Prepare::new()],
            checks: [Check::new(), Check::new()],
        });
        let [i1, i2, i3, _] = s.idles;
        let [p1, p2] = s.prepares;
        let [c1, c2] = s.checks;
        i1.start(s.idle_cb());
        i2.start(s.idle_cb());
        i3.start(s.idle_cb());
        p2.start(s.prepare_cb());
        p1.start(s.prepare_cb());
        c1.start(s.check_cb());
        c2.start(s.check_cb());
        s
    });
    assert!(!lp.run(RunMode::Default));
    say(format!(
        "done: {} iterations, {} closed",
        s.iter.get(),
        s.closed.get()
    ));
    let expected: Vec<&str> = include_str!("libuv/watcher_order.out").lines().collect();
    assert_eq!(take_lines(), expected);
}

// ---------------------------------------------------------------------------
// test-idle.c, test-run-once.c

/// A close callback that counts into `n`.
fn count(n: &Rc<Cell<u32>>) -> impl FnOnce() + 'static {
    let n = n.clone();
    move || n.set(n.get() + 1)
}

#[test]
fn idle_starvation() {
    let _w = common::watchdog();
    // test-idle.c `idle_starvation`: a started idle handle keeps the poll
    // from blocking, yet the 50 ms timer still fires (each iteration here
    // takes 1 ms, `block_for`), and its callback closes all three handles.
    //   uv_idle_start(&idle_handle, idle_cb);
    //   uv_check_start(&check_handle, check_cb);
    //   uv_timer_start(&timer_handle, timer_cb, 50, 0);
    //   r = uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    //   ASSERT(r == 0);
    //   ASSERT(idle_cb_called > 0);
    //   ASSERT(timer_cb_called == 1);
    //   ASSERT(close_cb_called == 3);
    let lp = virtual_loop();
    let idle_called = Rc::new(Cell::new(0));
    let check_called = Rc::new(Cell::new(0));
    let closed = Rc::new(Cell::new(0));
    let (ic, cc, cl) = (idle_called.clone(), check_called.clone(), closed.clone());
    lp.enter(move || {
        let idle = Idle::new();
        idle.start(move |_| {
            ic.set(ic.get() + 1);
            evloop::block_for(ms(1));
        });
        let check = Check::new();
        check.start(move |_| cc.set(cc.get() + 1));
        set_timeout(50, move || {
            // uv_close of the idle, check and timer handles (the timer
            // has fired: nothing left to close, its count is taken here).
            idle.close(count(&cl));
            check.close(count(&cl));
            cl.set(cl.get() + 1);
        });
    });
    assert!(!lp.run(RunMode::Default));
    assert!(idle_called.get() >= 50, "{}", idle_called.get());
    assert_eq!(check_called.get(), idle_called.get());
    assert_eq!(closed.get(), 3);
}

#[test]
fn idle_check() {
    let _w = common::watchdog();
    // test-idle.c `idle_check`: an idle handle that stops itself still kept
    // the one ONCE run from blocking, and the check handle ran once.
    //   ASSERT_EQ(0, uv_idle_start(&idle_handle, idle_stop));
    //   ASSERT_EQ(0, uv_check_start(&check_handle, check_cb));
    //   ASSERT_EQ(1, uv_run(uv_default_loop(), UV_RUN_ONCE));
    //   ASSERT_EQ(1, check_cb_called);
    //   ASSERT_EQ(0, close_cb_called);
    //   uv_close((uv_handle_t*) &idle_handle, close_cb);
    //   uv_close((uv_handle_t*) &check_handle, close_cb);
    //   ASSERT_EQ(0, uv_run(uv_default_loop(), UV_RUN_ONCE));
    //   ASSERT_EQ(2, close_cb_called);
    let lp = EventLoop::new().unwrap();
    let check_called = Rc::new(Cell::new(0));
    let closed = Rc::new(Cell::new(0));
    let cc = check_called.clone();
    let (idle, check) = lp.enter(move || {
        let idle = Idle::new();
        assert!(idle.start(|me| me.stop()));
        let check = Check::new();
        assert!(check.start(move |_| cc.set(cc.get() + 1)));
        (idle, check)
    });
    assert!(lp.run(RunMode::Once));
    assert_eq!(check_called.get(), 1);
    assert_eq!(closed.get(), 0);
    lp.enter(|| {
        idle.close(count(&closed));
        check.close(count(&closed));
    });
    assert!(!lp.run(RunMode::Once));
    assert_eq!(closed.get(), 2);
}

#[test]
fn run_once() {
    let _w = common::watchdog();
    // test-run-once.c `run_once`:
    //   static void idle_cb(uv_idle_t* handle) {
    //     if (++idle_counter == NUM_TICKS) uv_idle_stop(handle);
    //   }
    //   uv_idle_start(&idle_handle, idle_cb);
    //   while (uv_run(uv_default_loop(), UV_RUN_ONCE));
    //   ASSERT(idle_counter == NUM_TICKS);
    let lp = EventLoop::new().unwrap();
    let counter = Rc::new(Cell::new(0));
    let c = counter.clone();
    lp.enter(move || {
        Idle::new().start(move |me| {
            c.set(c.get() + 1);
            if c.get() == 64 {
                me.stop();
            }
        });
    });
    let mut runs = 0;
    while lp.run(RunMode::Once) {
        runs += 1;
    }
    assert_eq!(counter.get(), 64);
    assert_eq!(runs, 63, "one idle callback per run; the last run ends it");
}

// ---------------------------------------------------------------------------
// test-ref.c

/// test-ref.c's `do_close`: close the handle, run, and the close callback
/// ran once (a closing handle keeps the loop alive, even unreferenced).
fn do_close(lp: &EventLoop, close: impl FnOnce(Box<dyn FnOnce()>)) {
    let called = Rc::new(Cell::new(0));
    let c = called.clone();
    lp.enter(|| close(Box::new(move || c.set(c.get() + 1))));
    assert_eq!(called.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(called.get(), 1);
}

#[test]
fn idle_prepare_check_ref() {
    let _w = common::watchdog();
    // test-ref.c `idle_ref`, `prepare_ref`, `check_ref`: a started but
    // unreferenced handle does not keep the loop alive, so its callback
    // never runs.
    //   uv_idle_start(&h, (uv_idle_cb) fail_cb2);
    //   uv_unref((uv_handle_t*)&h);
    //   uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    //   do_close(&h);
    let lp = EventLoop::new().unwrap();
    let h = lp.enter(|| {
        let h = Idle::new();
        h.start(|_| panic!("fail_cb2 should not have been called"));
        h.unref();
        h
    });
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, |cb| h.close(cb));
    let h = lp.enter(|| {
        let h = Prepare::new();
        h.start(|_| panic!("fail_cb2 should not have been called"));
        h.unref();
        h
    });
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, |cb| h.close(cb));
    let h = lp.enter(|| {
        let h = Check::new();
        h.start(|_| panic!("fail_cb2 should not have been called"));
        h.unref();
        h
    });
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, |cb| h.close(cb));
}

#[test]
fn unref_in_prepare_cb() {
    let _w = common::watchdog();
    // test-ref.c `unref_in_prepare_cb`: the prepare handle kept the loop
    // alive until its callback unref'd it; the poll of that iteration does
    // not block (nothing referenced is left) and the run ends.
    //   static void prepare_cb(uv_prepare_t* h) { uv_unref((uv_handle_t*)h); }
    //   uv_prepare_start(&h, prepare_cb);
    //   uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    //   do_close(&h);
    let lp = EventLoop::new().unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let h = lp.enter(move || {
        let h = Prepare::new();
        h.start(move |me| {
            c.set(c.get() + 1);
            me.unref();
        });
        h
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(calls.get(), 1);
    lp.enter(|| assert!(h.is_active() && !h.has_ref()));
    do_close(&lp, |cb| h.close(cb));
}

#[test]
fn has_ref() {
    let _w = common::watchdog();
    // test-ref.c `has_ref`:
    //   uv_idle_init(uv_default_loop(), &h);
    //   uv_ref((uv_handle_t*)&h);
    //   ASSERT(uv_has_ref((uv_handle_t*)&h) == 1);
    //   uv_unref((uv_handle_t*)&h);
    //   ASSERT(uv_has_ref((uv_handle_t*)&h) == 0);
    let lp = EventLoop::new().unwrap();
    lp.enter(|| {
        let h = Idle::new();
        h.ref_();
        assert!(h.has_ref());
        h.unref();
        assert!(!h.has_ref());
        h.ref_();
    });
    assert!(
        !lp.is_alive(),
        "a stopped handle does not keep the loop alive"
    );
}

// ---------------------------------------------------------------------------
// test-loop-handles.c

/// test-loop-handles.c's statics.
#[derive(Default)]
struct Handles {
    prepare_1: Cell<Option<Prepare>>,
    prepare_2: Cell<Option<Prepare>>,
    check: Cell<Option<Check>>,
    idle_1: RefCell<Vec<Idle>>,
    idle_2: Cell<Option<Idle>>,
    loop_iteration: Cell<u32>,
    prepare_1_cb_called: Cell<u32>,
    prepare_1_close_cb_called: Cell<u32>,
    prepare_2_cb_called: Cell<u32>,
    prepare_2_close_cb_called: Cell<u32>,
    check_cb_called: Cell<u32>,
    check_close_cb_called: Cell<u32>,
    idle_1_cb_called: Cell<u32>,
    idle_1_close_cb_called: Cell<u32>,
    idles_1_active: Cell<i32>,
    idle_2_cb_called: Cell<u32>,
    idle_2_close_cb_called: Cell<u32>,
    idle_2_cb_started: Cell<u32>,
    idle_2_is_active: Cell<bool>,
}

const IDLE_COUNT: usize = 7;
const ITERATIONS: u32 = 21;
const TIMEOUT: u32 = 100;

fn inc(c: &Cell<u32>) {
    c.set(c.get() + 1);
}

impl Handles {
    fn idle_2_cb(self: &Rc<Self>) -> impl FnMut(Idle) + 'static {
        let s = self.clone();
        move |handle| {
            assert_eq!(Some(handle), s.idle_2.get());
            inc(&s.idle_2_cb_called);
            let t = s.clone();
            handle.close(move || {
                assert!(t.idle_2_is_active.get());
                inc(&t.idle_2_close_cb_called);
                t.idle_2_is_active.set(false);
            });
        }
    }

    fn idle_1_cb(self: &Rc<Self>) -> impl FnMut(Idle) + 'static {
        let s = self.clone();
        move |handle| {
            assert!(s.idles_1_active.get() > 0);
            // Init idle_2 and make it active.
            let closing = s.idle_2.get().is_some_and(|h| h.is_closing());
            if !s.idle_2_is_active.get() && !closing {
                let idle_2 = Idle::new();
                s.idle_2.set(Some(idle_2));
                assert!(idle_2.start(s.idle_2_cb()));
                s.idle_2_is_active.set(true);
                inc(&s.idle_2_cb_started);
            }
            inc(&s.idle_1_cb_called);
            if s.idle_1_cb_called.get().is_multiple_of(5) {
                handle.stop();
                s.idles_1_active.set(s.idles_1_active.get() - 1);
            }
        }
    }

    fn check_cb(self: &Rc<Self>) -> impl FnMut(Check) + 'static {
        let s = self.clone();
        move |handle| {
            assert_eq!(Some(handle), s.check.get());
            if s.loop_iteration.get() < ITERATIONS {
                // Make some idle watchers active (libuv returns 0 for a
                // handle already started, as `start` does nothing then).
                for i in 0..1 + (s.loop_iteration.get() as usize % IDLE_COUNT) {
                    let idle = s.idle_1.borrow()[i];
                    let _started = idle.start(s.idle_1_cb());
                    s.idles_1_active.set(s.idles_1_active.get() + 1);
                }
            } else {
                // End of the test: close all handles.
                let c = |f: fn(&Handles) -> &Cell<u32>| {
                    let t = s.clone();
                    move || inc(f(&t))
                };
                s.prepare_1
                    .get()
                    .unwrap()
                    .close(c(|h| &h.prepare_1_close_cb_called));
                handle.close(c(|h| &h.check_close_cb_called));
                s.prepare_2
                    .get()
                    .unwrap()
                    .close(c(|h| &h.prepare_2_close_cb_called));
                for &idle in s.idle_1.borrow().iter() {
                    idle.close(c(|h| &h.idle_1_close_cb_called));
                }
                // This handle is closed/recreated every time, close it
                // only if it is active.
                if s.idle_2_is_active.get() {
                    let t = s.clone();
                    s.idle_2.get().unwrap().close(move || {
                        inc(&t.idle_2_close_cb_called);
                        t.idle_2_is_active.set(false);
                    });
                }
            }
            inc(&s.check_cb_called);
        }
    }

    fn prepare_2_cb(self: &Rc<Self>) -> impl FnMut(Prepare) + 'static {
        let s = self.clone();
        move |handle| {
            assert_eq!(Some(handle), s.prepare_2.get());
            // Started by prepare_1 when (loop_iteration % 2 == 0): a started
            // watcher is not queued until the next round.
            assert_ne!(s.loop_iteration.get() % 2, 0);
            handle.stop();
            inc(&s.prepare_2_cb_called);
        }
    }

    fn prepare_1_cb(self: &Rc<Self>) -> impl FnMut(Prepare) + 'static {
        let s = self.clone();
        move |handle| {
            assert_eq!(Some(handle), s.prepare_1.get());
            if s.loop_iteration.get().is_multiple_of(2) {
                assert!(s.prepare_2.get().unwrap().start(s.prepare_2_cb()));
            }
            inc(&s.prepare_1_cb_called);
            s.loop_iteration.set(s.loop_iteration.get() + 1);
        }
    }
}

#[test]
fn loop_handles() {
    let _w = common::watchdog();
    // test-loop-handles.c `loop_handles`, callback for callback (its
    // comment states the rules: a watcher may stop or close itself, a
    // stopped or closed one is never called again, a watcher started by one
    // of its kind waits for the next round, idle watchers run while active).
    // The timer is unreferenced and repeats every 100 ms so the loop keeps
    // polling; on virtual time the poll jumps to it.
    let lp = virtual_loop();
    let s = Rc::new(Handles::default());
    let t = s.clone();
    lp.enter(move || {
        let prepare_1 = Prepare::new();
        t.prepare_1.set(Some(prepare_1));
        assert!(prepare_1.start(t.prepare_1_cb()));
        let check = Check::new();
        t.check.set(Some(check));
        assert!(check.start(t.check_cb()));
        // Initialize only: prepare_2 is started by prepare_1_cb.
        t.prepare_2.set(Some(Prepare::new()));
        // Initialize only: idle_1 handles are started by check_cb.
        *t.idle_1.borrow_mut() = (0..IDLE_COUNT).map(|_| Idle::new()).collect();
        let timer = set_interval(TIMEOUT, || {});
        timer.unref();
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(s.loop_iteration.get(), ITERATIONS);
    assert_eq!(s.prepare_1_cb_called.get(), ITERATIONS);
    assert_eq!(s.prepare_1_close_cb_called.get(), 1);
    assert_eq!(s.prepare_2_cb_called.get(), ITERATIONS / 2);
    assert_eq!(s.prepare_2_close_cb_called.get(), 1);
    assert_eq!(s.check_cb_called.get(), ITERATIONS);
    assert_eq!(s.check_close_cb_called.get(), 1);
    // idle_1_cb should be called a lot.
    assert!(s.idle_1_cb_called.get() > 0);
    assert_eq!(s.idle_1_close_cb_called.get(), IDLE_COUNT as u32);
    assert_eq!(s.idle_2_close_cb_called.get(), s.idle_2_cb_started.get());
    assert!(!s.idle_2_is_active.get());
}

// ---------------------------------------------------------------------------
// evloop's own: immediates, the poll timeout, misuse, panics, teardown

#[test]
fn check_handles_run_before_the_immediates_of_their_phase() {
    let _w = common::watchdog();
    // Node runs immediates from its own check handle, started at boot;
    // libuv runs the handle started last first, so a check handle runs
    // before the immediates of the same check phase. One started from an
    // immediate (after the pass began) first runs in the next iteration,
    // still before that iteration's immediates. An immediate a check handle
    // queues runs in the same check phase: Node's handle, which runs after,
    // takes the immediates queued by then.
    take_lines();
    let lp = virtual_loop();
    lp.run_main(|| {
        set_immediate(|| {
            say("immediate 1");
            let late = Check::new();
            late.start(move |me| {
                say("late check");
                me.close(|| say("late closed"));
            });
            set_immediate(|| say("immediate 2"));
        });
        let early = Check::new();
        let mut n = 0;
        early.start(move |me| {
            n += 1;
            say(format!("early check {n}"));
            if n == 1 {
                // Queued before Node's check handle takes its snapshot.
                set_immediate(|| say("immediate from check"));
            }
            if n == 2 {
                me.close(|| say("early closed"));
            }
        });
    });
    assert_eq!(
        take_lines(),
        [
            "early check 1",
            "immediate 1",
            "immediate from check",
            "late check",
            "early check 2",
            "immediate 2",
            // Closed in that order: the close phase runs newest first.
            "early closed",
            "late closed",
        ]
    );
}

#[test]
fn an_idle_handle_keeps_the_poll_from_blocking_and_a_prepare_handle_does_not() {
    let _w = common::watchdog();
    // uv_backend_timeout: 0 while the idle list is not empty (referenced or
    // not); a started prepare or check handle leaves the timeout to the
    // timers (none here: forever).
    let lp = virtual_loop();
    let (idle, prepare, check) = lp.enter(|| {
        let prepare = Prepare::new();
        prepare.start(|_| {});
        let check = Check::new();
        check.start(|_| {});
        (Idle::new(), prepare, check)
    });
    assert!(lp.is_alive());
    assert_eq!(lp.backend_timeout(), None);
    lp.enter(|| {
        idle.start(|_| {});
        idle.unref();
    });
    assert_eq!(lp.backend_timeout(), Some(Duration::ZERO));
    lp.enter(|| {
        idle.stop();
        set_timeout(30, || {});
    });
    assert_eq!(lp.backend_timeout(), Some(ms(30)));
    lp.enter(|| {
        prepare.unref();
        check.unref();
    });
    // The timer alone keeps the loop alive; the prepare and check handles
    // run in each iteration until it fires.
    assert!(!lp.run(RunMode::Default));
    assert_eq!(lp.now(), 30);
    lp.enter(|| {
        assert!(prepare.is_active() && check.is_active() && !idle.is_active());
        prepare.close(|| {});
        check.close(|| {});
        idle.close(|| {});
    });
    assert!(!lp.run(RunMode::Default));
}

#[test]
fn a_spinning_idle_handle_lets_a_once_run_return_without_blocking() {
    let _w = common::watchdog();
    // uv_run(ONCE) sleeps only if `can_sleep` (no pending callbacks, no
    // idle handle): with an idle handle and a far timer, each ONCE run
    // returns at once, the timer not yet due.
    let lp = virtual_loop();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let idle = lp.enter(move || {
        set_timeout(1000, || {});
        let idle = Idle::new();
        idle.start(move |_| c.set(c.get() + 1));
        idle
    });
    for n in 1..=3 {
        assert!(lp.run(RunMode::Once));
        assert_eq!(calls.get(), n);
        assert_eq!(lp.now(), 0);
    }
    lp.enter(|| idle.stop());
    // Stopped: the run blocks until the timer, runs it, and nothing is left.
    assert!(!lp.run(RunMode::Once));
    assert_eq!(lp.now(), 1000);
}

#[test]
fn misuse_follows_libuv() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let ran = Rc::new(RefCell::new(Vec::new()));
    let r = ran.clone();
    let idle = lp.enter(|| {
        let idle = Idle::new();
        let (a, b) = (r.clone(), r.clone());
        // Starting a started handle does nothing (libuv returns 0): the
        // first callback stays and the second is dropped.
        assert!(idle.start(move |me| {
            a.borrow_mut().push("first");
            me.stop();
        }));
        assert!(!idle.start(move |_| b.borrow_mut().push("second")));
        assert!(idle.is_active());
        idle
    });
    assert_eq!(Rc::strong_count(&ran), 3, "the second callback was dropped");
    lp.run(RunMode::Default);
    assert_eq!(*ran.borrow(), ["first"]);
    assert_eq!(Rc::strong_count(&ran), 2, "stop drops the callback");
    lp.enter(|| {
        // Stopping a stopped handle does nothing.
        idle.stop();
        idle.close(|| {});
        assert!(idle.is_closing() && !idle.is_active());
        // Stopping a closing handle does nothing (libuv: not active).
        idle.stop();
    });
    // Closing twice panics, as libuv asserts.
    let twice = catch_unwind(AssertUnwindSafe(|| lp.enter(|| idle.close(|| {}))));
    let msg = panic_message(&*twice.unwrap_err());
    assert!(
        msg.contains("Idle::close") && msg.contains("already closed"),
        "{msg}"
    );
    lp.run(RunMode::Default);
    lp.enter(|| {
        // Closed: stale. The queries say so; stop, ref and unref do nothing.
        assert!(idle.is_closing() && !idle.is_active() && !idle.has_ref());
        idle.stop();
        idle.unref();
        idle.ref_();
    });
    // Starting a closed handle panics (libuv leaves it undefined).
    let start = catch_unwind(AssertUnwindSafe(|| lp.enter(|| idle.start(|_| {}))));
    let msg = panic_message(&*start.unwrap_err());
    assert!(
        msg.contains("Idle::start") && msg.contains("closed"),
        "{msg}"
    );
    assert!(!lp.is_alive());
    // A handle of another loop: start and close panic, the rest do nothing.
    let other = virtual_loop();
    let check = other.enter(Check::new);
    let wrong = catch_unwind(AssertUnwindSafe(|| lp.enter(|| check.start(|_| {}))));
    let msg = panic_message(&*wrong.unwrap_err());
    assert!(
        msg.contains("Check::start") && msg.contains("loop"),
        "{msg}"
    );
    lp.enter(|| {
        check.stop();
        assert!(!check.is_active() && !check.has_ref() && !check.is_closing());
    });
    // With no loop running: the clear message `with_core` gives.
    let none = catch_unwind(Prepare::new);
    let msg = panic_message(&*none.unwrap_err());
    assert!(msg.contains("no event loop running"), "{msg}");
}

#[test]
fn a_panicking_watcher_stops_if_the_panic_leaves_the_run_and_goes_on_if_handled() {
    let _w = common::watchdog();
    // Unhandled: the panic leaves run() (as an interval's does), the handle
    // is stopped, and the handles its pass had not reached run next time.
    let lp = virtual_loop();
    let (bad, good) = lp.enter(|| {
        let good = Idle::new();
        good.start(|me| {
            say("good");
            me.close(|| {});
        });
        let bad = Idle::new();
        bad.start(|_| panic!("idle callback"));
        (bad, good)
    });
    take_lines();
    let res = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default)));
    assert_eq!(panic_message(&*res.unwrap_err()), "idle callback");
    lp.enter(|| assert!(!bad.is_active() && good.is_active()));
    assert!(!lp.run(RunMode::Default));
    assert_eq!(take_lines(), ["good"]);
    lp.enter(|| bad.close(|| {}));
    lp.run(RunMode::Default);

    // Handled: the handle keeps running. (An idle handle: a check handle
    // alone would let the poll block for good, as in libuv.)
    let panics = Rc::new(Cell::new(0));
    let p = panics.clone();
    let lp = EventLoop::builder()
        .virtual_time(true)
        .on_uncaught_panic(move |_: UncaughtPanic| p.set(p.get() + 1))
        .build()
        .unwrap();
    lp.run_main(|| {
        let mut n = 0;
        Idle::new().start(move |me| {
            n += 1;
            if n == 3 {
                me.close(|| {});
            }
            panic!("idle {n}");
        });
    });
    assert_eq!(panics.get(), 3);
}

#[test]
fn dropping_the_loop_drops_started_watchers_callbacks() {
    let _w = common::watchdog();
    let token = Rc::new(());
    let lp = virtual_loop();
    let t = token.clone();
    lp.enter(move || {
        let idle = Idle::new();
        idle.start(move |_| {
            let _ = &t;
        });
        idle.unref();
    });
    assert_eq!(Rc::strong_count(&token), 2);
    drop(lp);
    assert_eq!(Rc::strong_count(&token), 1);
}

#[test]
fn idle_and_prepare_callbacks_run_in_the_idle_prepare_phase_and_drain_after_each() {
    let _w = common::watchdog();
    take_lines();
    virtual_loop().run_main(|| {
        let idle = Idle::new();
        idle.start(|me| {
            assert_eq!(evloop::snapshot().phase, evloop::Phase::IdlePrepare);
            say("idle");
            evloop::next_tick(|| say("tick after idle"));
            evloop::queue_microtask(|| say("microtask after idle"));
            me.close(|| say("idle closed"));
        });
        let prepare = Prepare::new();
        prepare.start(|me| {
            assert_eq!(evloop::snapshot().phase, evloop::Phase::IdlePrepare);
            say("prepare");
            evloop::next_tick(|| say("tick after prepare"));
            me.close(|| say("prepare closed"));
        });
    });
    assert_eq!(
        take_lines(),
        [
            "idle",
            "tick after idle",
            "microtask after idle",
            "prepare",
            "tick after prepare",
            // Newest first, as libuv's close phase.
            "prepare closed",
            "idle closed",
        ]
    );
}

#[test]
fn close_callbacks_run_newest_first_as_libuv() {
    let _w = common::watchdog();
    // libuv 1.46 keeps `loop->closing_handles` as a stack
    // (`handle->next_closing = loop->closing_handles`), so
    //   uv_close(a, cb); uv_close(b, cb); uv_close(c, cb);
    // runs c's, b's, then a's callback; a close queued by a close callback
    // waits for the next iteration's close phase.
    take_lines();
    virtual_loop().run_main(|| {
        for name in ["a", "b", "c"] {
            Idle::new().close(move || {
                say(name);
                if name == "c" {
                    Idle::new().close(|| say("closed from c's callback"));
                    evloop::set_immediate(|| say("immediate of the next iteration"));
                }
            });
        }
    });
    assert_eq!(
        take_lines(),
        [
            "c",
            "b",
            "a",
            "immediate of the next iteration",
            "closed from c's callback"
        ]
    );
}

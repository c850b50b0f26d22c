//! The timer handle as libuv exposes it (`uv_timer_again`, repeat get/set,
//! `uv_timer_get_due_in`, `uv_is_active`, `uv_close`), the callback reaching
//! its own handle (Node's `this`), and close callbacks for immediates: ports
//! of libuv's `test/test-timer-again.c` and `test/test-timer.c`, with the C
//! beside each, on virtual time.

use crate::common::{self, block, say, take_lines, virtual_loop};

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use evloop::{
    TIMEOUT_MAX, Timer, set_immediate, set_interval, set_interval_with, set_timeout,
    set_timeout_with,
};

/// test-timer-again.c `timer_again` (libuv 1.46): repeat_1 (50 ms, made
/// repeating with `uv_timer_set_repeat`) calls `uv_timer_again(&repeat_2)`
/// on each of its 10 runs, so repeat_2 (100 ms, repeat 100) cannot fire
/// until repeat_1 closes itself; repeat_2 then runs twice: at its first run
/// it sets its repeat to 0, which "shouldn't take effect immediately", so
/// it runs once more and, no longer active with repeat 0, closes itself.
///
/// ```c
/// static void repeat_1_cb(uv_timer_t* handle) {
///   ASSERT_EQ(50, uv_timer_get_repeat((uv_timer_t*)handle));
///   repeat_1_cb_called++;
///   ASSERT_OK(uv_timer_again(&repeat_2));
///   if (repeat_1_cb_called == 10) {
///     uv_close((uv_handle_t*)handle, close_cb);
///     repeat_2_cb_allowed = 1;
///     return;
///   }
/// }
/// static void repeat_2_cb(uv_timer_t* handle) {
///   ASSERT(repeat_2_cb_allowed);
///   repeat_2_cb_called++;
///   if (uv_timer_get_repeat(&repeat_2) == 0) {
///     ASSERT_OK(uv_is_active((uv_handle_t*) handle));
///     uv_close((uv_handle_t*)handle, close_cb);
///     return;
///   }
///   ASSERT_EQ(100, uv_timer_get_repeat(&repeat_2));
///   uv_timer_set_repeat(&repeat_2, 0);  /* not immediately */
/// }
/// /* ... */
///   uv_timer_start(&repeat_1, repeat_1_cb, 50, 0);
///   ASSERT_OK(uv_timer_get_repeat(&repeat_1));
///   uv_timer_set_repeat(&repeat_1, 50);
///   uv_timer_start(&repeat_2, repeat_2_cb, 100, 100);
///   uv_run(uv_default_loop(), UV_RUN_DEFAULT);
///   ASSERT_EQ(10, repeat_1_cb_called);
///   ASSERT_EQ(2, repeat_2_cb_called);
///   ASSERT_EQ(2, close_cb_called);   /* "expected ~700 ms" */
/// ```
///
/// evloop's one-shot timers hold a `FnOnce`, so repeat_1 starts as an
/// interval; a one-shot refuses a repeat (checked below).
#[test]
fn timer_again() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let r1 = Rc::new(Cell::new(0));
    let r2 = Rc::new(Cell::new(0));
    let closed = Rc::new(Cell::new(0));
    let allowed = Rc::new(Cell::new(false));
    let (c1, c2, a1, a2, closes1, closes2) = (
        r1.clone(),
        r2.clone(),
        allowed.clone(),
        allowed.clone(),
        closed.clone(),
        closed.clone(),
    );
    let start = lp.now();
    lp.run_main(move || {
        let one_shot = set_timeout(50, || {});
        assert!(!one_shot.set_repeat(50), "a one-shot cannot take a repeat");
        assert_eq!(one_shot.repeat(), 0);
        one_shot.clear();
        assert!(!one_shot.again(), "again() of a gone timer");

        let repeat_2 = set_interval_with(100, move |me| {
            assert!(a2.get(), "repeat_2 ran while repeat_1 kept again()ing it");
            c2.set(c2.get() + 1);
            if me.repeat() == 0 {
                assert!(!me.is_active());
                let closes = closes2.clone();
                me.close(move || closes.set(closes.get() + 1));
                return;
            }
            assert_eq!(me.repeat(), 100);
            assert!(me.set_repeat(0), "not immediately");
        });
        assert_eq!(repeat_2.repeat(), 100);
        let repeat_1 = set_interval_with(50, move |me| {
            assert_eq!(me.repeat(), 50);
            c1.set(c1.get() + 1);
            assert!(repeat_2.again());
            if c1.get() == 10 {
                let closes = closes1.clone();
                me.close(move || closes.set(closes.get() + 1));
                a1.set(true);
            }
        });
        assert_eq!(repeat_1.repeat(), 50);
    });
    assert_eq!(r1.get(), 10);
    assert_eq!(r2.get(), 2);
    assert_eq!(closed.get(), 2);
    assert!(lp.now() - start >= 700, "took {} ms", lp.now() - start);
}

/// test-timer.c `timer_huge_timeout` and `timer_init`'s due time: a timer's
/// due time counts down from its deadline; a gone timer reports 0, no
/// repeat, inactive.
///
/// ```c
/// uv_timer_start(&tiny_timer, tiny_timer_cb, 1, 0);
/// uv_timer_start(&huge_timer1, tiny_timer_cb, 0xffffffffffffLL, 0);
/// ASSERT_UINT64_EQ(1, uv_timer_get_due_in(&tiny_timer));
/// ASSERT_UINT64_EQ(281474976710655, uv_timer_get_due_in(&huge_timer1));
/// /* timer_init: */
/// ASSERT_OK(uv_timer_get_repeat(&handle));
/// ASSERT_UINT64_LE(0, uv_timer_get_due_in(&handle));
/// ASSERT_OK(uv_is_active((uv_handle_t*) &handle));
/// ```
///
/// Node's largest delay is [`TIMEOUT_MAX`]; larger ones become 1 ms.
#[test]
fn timer_due_in_counts_down_and_gone_timers_report_nothing() {
    let _w = common::watchdog();
    virtual_loop().run_main(|| {
        let tiny = set_timeout(1, || {});
        let huge = set_timeout(TIMEOUT_MAX, || {});
        assert_eq!(tiny.due_in(), 1);
        assert_eq!(huge.due_in(), u64::from(TIMEOUT_MAX));
        assert!(tiny.is_active() && huge.is_active());
        block(30);
        // From the loop's cached time, as `uv_now`: a busy main script
        // does not move it.
        assert_eq!(huge.due_in(), u64::from(TIMEOUT_MAX));
        let _ = set_timeout_with(5, move |me| {
            // Scheduled at 30 (scheduling reads the clock afresh), it runs
            // at 35, and the loop's time has moved with it.
            assert_eq!(huge.due_in(), u64::from(TIMEOUT_MAX) - 35);
            // A one-shot is no longer active once its callback starts, as
            // libuv stops a non-repeating timer before calling it.
            assert!(!me.is_active());
            assert_eq!(me.due_in(), 0);
            for gone in [tiny, me] {
                assert_eq!(gone.due_in(), 0);
                assert_eq!(gone.repeat(), 0);
                assert!(!gone.is_active());
            }
            huge.clear();
            assert!(!huge.is_active());
            say("the 5 ms timer ran");
        });
    });
    assert_eq!(take_lines(), ["the 5 ms timer ran"]);
}

/// test-timer.c `timer_huge_repeat`: a timer with the largest repeat runs
/// once, while a 2 ms interval runs on; the tenth call closes both. (libuv
/// takes `(uint64_t) -1`; evloop's largest repeat is Node's [`TIMEOUT_MAX`],
/// and a larger one becomes 1 ms, as a larger delay does.)
///
/// ```c
/// static void huge_repeat_cb(uv_timer_t* handle) {
///   if (ncalls == 0) ASSERT_PTR_EQ(handle, &huge_timer1);
///   else ASSERT_PTR_EQ(handle, &tiny_timer);
///   if (++ncalls == 10) {
///     uv_close((uv_handle_t*) &tiny_timer, NULL);
///     uv_close((uv_handle_t*) &huge_timer1, NULL);
///   }
/// }
/// uv_timer_start(&tiny_timer, huge_repeat_cb, 2, 2);
/// uv_timer_start(&huge_timer1, huge_repeat_cb, 1, (uint64_t) -1);
/// ```
#[test]
fn timer_huge_repeat() {
    let _w = common::watchdog();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let handles: Rc<Cell<Option<(Timer, Timer)>>> = Rc::new(Cell::new(None));
    let (c1, c2, h1, h2) = (
        calls.clone(),
        calls.clone(),
        handles.clone(),
        handles.clone(),
    );
    let close_both = move |h: &Rc<Cell<Option<(Timer, Timer)>>>, calls: &RefCell<Vec<&str>>| {
        if calls.borrow().len() == 10 {
            let (tiny, huge) = h.get().expect("both started");
            tiny.close(|| {});
            huge.close(|| {});
        }
    };
    let close_too = close_both;
    virtual_loop().run_main(move || {
        let tiny = set_interval(2, move || {
            c1.borrow_mut().push("tiny");
            close_both(&h1, &c1);
        });
        let huge = set_interval(1, move || {
            c2.borrow_mut().push("huge");
            close_too(&h2, &c2);
        });
        assert!(huge.set_repeat(TIMEOUT_MAX));
        handles.set(Some((tiny, huge)));
        assert!(huge.set_repeat(TIMEOUT_MAX));
    });
    let calls = calls.borrow();
    assert_eq!(calls.len(), 10);
    assert_eq!(calls[0], "huge");
    assert!(calls[1..].iter().all(|&c| c == "tiny"), "{calls:?}");
}

/// `set_repeat` gives an interval a first timeout that differs from its
/// repeat (`uv_timer_start(t, cb, 100, 20)`), and takes effect at the next
/// re-arm, also from inside the callback.
#[test]
fn set_repeat_takes_effect_at_the_next_rearm() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let start = lp.now();
    lp.run_main(move || {
        let t = set_interval_with(100, move |me| {
            let at = evloop::now() - start;
            say(format!("run at {at}"));
            match at {
                100 => assert!(me.set_repeat(30)),
                130 => {
                    assert!(me.set_repeat(0));
                    assert_eq!(me.repeat(), 0);
                }
                _ => {}
            }
        });
        assert!(t.set_repeat(10));
        assert_eq!(t.repeat(), 10);
        assert_eq!(t.due_in(), 100, "the scheduled run keeps its time");
    });
    assert_eq!(take_lines(), ["run at 100", "run at 130", "run at 160"]);
}

/// Close callbacks run in the close phase: after the check phase of the
/// same iteration, before the next timers phase, newest first, whether or
/// not the handle was still pending (libuv runs `uv_close` callbacks in
/// `uv__run_closing_handles`, from a stack).
#[test]
fn close_callbacks_of_timers_and_immediates_run_in_the_close_phase() {
    let _w = common::watchdog();
    virtual_loop().run_main(|| {
        let t = set_timeout(10, || say("closed timer (must not run)"));
        let fired = set_timeout(1, || say("timeout"));
        let imm = set_immediate(|| say("closed immediate (must not run)"));
        set_immediate(|| say("immediate"));
        t.close(|| say("timer close callback"));
        t.close(|| say("second close of the same timer"));
        imm.close(|| say("immediate close callback"));
        set_timeout(2, move || {
            // Already fired: its close callback still runs.
            fired.close(|| say("fired timer's close callback"));
            set_immediate(|| say("immediate after the timer"));
        });
        assert!(!t.is_active());
    });
    assert_eq!(
        take_lines(),
        [
            "immediate",
            "immediate close callback",
            "second close of the same timer",
            "timer close callback",
            "timeout",
            "immediate after the timer",
            "fired timer's close callback",
        ]
    );
}

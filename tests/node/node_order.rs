//! Node.js ordering scenarios ported to evloop.
//!
//! Every `tests/node/order/NAME.js` script has a `#[test] fn NAME` here that
//! runs a faithful Rust port of it and asserts that the lines it prints equal
//! `tests/node/order/NAME.out` (`node_expected!("order", "NAME")`), which is
//! what Node.js v20 printed for the script (see `tests/node/README.md`).
//! Porting conventions:
//! - `console.log(x)` is `say(x)`, a thread-local line recorder;
//! - `Promise.resolve().then(f).then(g)` is `queue_microtask(f')` where `f'`
//!   runs `f` and then queues `g` (a `.then` on a resolved promise is one
//!   microtask; the next link is queued when the previous one has run);
//! - `fs.readFile(__filename, cb)` is `evloop::handle().post(cb)`: a callback
//!   that runs in the poll phase, like an I/O completion;
//! - `process.on('uncaughtException', h)` is `set_uncaught_panic_handler`, and
//!   `throw new Error(m)` is `panic!(m)`;
//! - the scripts' busy-wait `block(ms)` is `std::thread::sleep` (the loop is
//!   single-threaded, so both simply hold the loop for that long);
//! - `clearTimeout(undefined)`/`clearTimeout(null)` have no Rust equivalent
//!   (the types rule them out) and are left out, with a comment.
//!
//! The ports run on virtual time ([`check`]): the clock moves only where
//! a script blocks or the loop waits for a timer, which is the order the
//! `.out` files record, on any machine. The one order that depends on the
//! real clock, `setTimeout(0)` against `setImmediate` in the main script,
//! has its own test below with both legal outcomes.

use crate::common;

use crate::common::{block, check, node_expected, say};

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use evloop::{
    Immediate, Timer, UncaughtPanic, clear_immediate, clear_interval, clear_timeout, next_tick,
    queue_microtask, set_immediate, set_interval, set_interval_with, set_timeout, set_timeout_with,
    set_uncaught_panic_handler,
};

/// `fs.readFile(__filename, cb)`: `cb` runs later in the poll phase.
fn read_file(cb: impl FnOnce() + Send + 'static) {
    evloop::handle()
        .post(cb)
        .expect("the loop is running, so the post is accepted");
}

/// Installs `process.on('uncaughtException', (err) => console.log('handler: ' + err.message))`.
fn log_uncaught_in_handler() {
    set_uncaught_panic_handler(Some(Box::new(|p: UncaughtPanic| {
        say(format!(
            "handler: {}",
            p.message().unwrap_or("<non-string panic>")
        ));
    })));
}

/// Like [`check`], for the scenarios where evloop documents a difference from
/// Node (see design.md, "Known differences from Node"). Each edit names a line
/// of Node's output and what evloop prints instead (`None`: nothing); every
/// other line must match Node's, in Node's order, and every edit must apply.
pub(crate) fn check_known_difference(
    name: &str,
    expected: &str,
    edits: &[(&str, Option<&str>)],
    main: impl FnOnce(),
) {
    let mut patched = Vec::new();
    let mut applied = 0;
    for line in expected.lines() {
        match edits.iter().find(|(node, _)| *node == line) {
            Some((_, ours)) => {
                applied += 1;
                patched.extend(*ours);
            }
            None => patched.push(line),
        }
    }
    assert_eq!(
        applied,
        edits.len(),
        "{name}: an edit names no line of Node's output"
    );
    let patched = patched.join("\n");
    check(name, &patched, main);
}

/// A shared slot for a handle that a callback needs (`let b; ... b = setX()`).
fn slot<T>() -> Rc<Cell<Option<T>>> {
    Rc::new(Cell::new(None))
}

#[test]
fn clamp_one_ms() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "clamp_one_ms");
    check(name, out, || {
        set_timeout(10, || say("10 ms"));
        set_timeout(0, || say("delay 0"));
        set_timeout(-5, || say("delay -5"));
        set_timeout(2f64.powi(31), || say("delay 2**31"));
        set_timeout(1, || say("delay 1"));
        say("main");
    });
}

#[test]
fn clear_immediate_same_phase() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "clear_immediate_same_phase");
    check(name, out, || {
        let b: Rc<Cell<Option<Immediate>>> = slot();
        let b2 = b.clone();
        set_immediate(move || {
            say("immediate A clears B");
            clear_immediate(b2.get().expect("b is set"));
        });
        b.set(Some(set_immediate(|| say("immediate B (must not happen)"))));
        set_immediate(|| say("immediate C"));
        // clearImmediate(undefined): no Rust equivalent.
        say("main");
    });
}

#[test]
fn clear_timeout_noop() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "clear_timeout_noop");
    check(name, out, || {
        let fired = set_timeout(5, || say("fired runs"));
        let cleared = set_timeout(5, || say("cleared runs (must not happen)"));
        clear_timeout(cleared);
        set_timeout(20, move || {
            clear_timeout(fired);
            clear_timeout(cleared);
            // clearTimeout(undefined), clearTimeout(null): no Rust equivalent.
            say("no-op clears done");
            set_timeout(5, || say("later timer still runs"));
        });
    });
}

#[test]
fn clear_timeout_same_pass() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "clear_timeout_same_pass");
    check(name, out, || {
        let second: Rc<Cell<Option<Timer>>> = slot();
        let s = second.clone();
        set_timeout(5, move || {
            say("first fires, clears second");
            clear_timeout(s.get().expect("second is set"));
        });
        second.set(Some(set_timeout(5, || {
            say("second fires (must not happen)")
        })));
        set_timeout(5, || say("third fires"));
        block(20); // all three are due in the first timers pass
    });
}

#[test]
fn clear_timeout_stops_interval() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "clear_timeout_stops_interval");
    check(name, out, || {
        let count = Rc::new(Cell::new(0));
        let iv: Rc<Cell<Option<Timer>>> = slot();
        let (c, i) = (count.clone(), iv.clone());
        iv.set(Some(set_interval(20, move || {
            c.set(c.get() + 1);
            say(format!("interval {}", c.get()));
            if c.get() == 2 {
                clear_timeout(i.get().expect("iv is set"));
            }
        })));
        set_timeout(100, move || {
            say(format!("timeout 100, count {}", count.get()))
        });
    });
}

#[test]
fn deep_tick_chain_before_timer() {
    let _w = common::watchdog();
    fn again(count: Rc<Cell<u32>>) {
        count.set(count.get() + 1);
        if count.get() < 1000 {
            next_tick(move || again(count));
        }
    }
    let (name, out) = node_expected!("order", "deep_tick_chain_before_timer");
    check(name, out, || {
        let count = Rc::new(Cell::new(0));
        let c = count.clone();
        set_timeout(0, move || say(format!("timeout sees count {}", c.get())));
        let c = count.clone();
        next_tick(move || again(c));
        say(format!("main sees count {}", count.get()));
    });
}

#[test]
fn drain_between_immediates() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "drain_between_immediates");
    check(name, out, || {
        for name in ["A", "B", "C"] {
            set_immediate(move || {
                say(format!("immediate {name}"));
                queue_microtask(move || say(format!("promise {name}")));
                next_tick(move || say(format!("tick {name}")));
            });
        }
        say("main");
    });
}

#[test]
fn drain_between_timers() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "drain_between_timers");
    check(name, out, || {
        for name in ["A", "B"] {
            set_timeout(10, move || {
                say(format!("timer {name}"));
                queue_microtask(move || say(format!("micro {name}")));
                next_tick(move || say(format!("tick {name}")));
            });
        }
        set_timeout(20, || say("timer C (20ms)"));
        block(30); // both 10 ms timers and the 20 ms one are due in the first timers pass
    });
}

/// ```js
/// setTimeout(() => console.log('10.8 ms (10 ms)'), 10.8);
/// setTimeout(() => console.log('10 ms'), 10);
/// setTimeout(() => console.log('1.8 ms (1 ms)'), 1.8);
/// setTimeout(() => console.log('0.5 ms (1 ms)'), 0.5);
/// setTimeout(() => console.log('1 ms'), 1);
/// setTimeout(() => console.log('20.999 ms (20 ms)'), 20.999);
/// setTimeout(() => console.log('20 ms'), 20);
/// console.log('main');
/// ```
/// (issue 18) A `Duration` follows the same path: its fraction of a
/// millisecond is truncated after the clamp.
#[test]
fn fractional_delay() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "fractional_delay");
    check(name, out, || {
        set_timeout(10.8, || say("10.8 ms (10 ms)"));
        set_timeout(10, || say("10 ms"));
        set_timeout(1.8, || say("1.8 ms (1 ms)"));
        set_timeout(Duration::from_micros(500), || say("0.5 ms (1 ms)"));
        set_timeout(1, || say("1 ms"));
        set_timeout(20.999, || say("20.999 ms (20 ms)"));
        set_timeout(Duration::from_micros(20_000), || say("20 ms"));
        say("main");
    });
}

#[test]
fn grand_tour() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "grand_tour");
    check(name, out, || {
        say("main start");
        set_immediate(|| {
            say("immediate 1");
            queue_microtask(|| say("micro from immediate 1"));
            read_file(|| {
                say("readFile");
                next_tick(|| say("tick from readFile"));
                set_timeout(0, || say("timeout 0 from readFile"));
                set_immediate(|| say("immediate from readFile"));
                set_timeout(20, || {
                    say("timer 20");
                    next_tick(|| say("tick from timer 20"));
                    set_immediate(|| say("immediate from timer 20"));
                    set_timeout(0, || say("timer 0 from timer 20"));
                });
                let doomed = set_timeout(75, || say("doomed (must not happen)"));
                let n = Rc::new(Cell::new(0));
                let iv: Rc<Cell<Option<Timer>>> = slot();
                let iv2 = iv.clone();
                iv.set(Some(set_interval(50, move || {
                    n.set(n.get() + 1);
                    say(format!("interval {}", n.get()));
                    if n.get() == 1 {
                        clear_timeout(doomed);
                    }
                    if n.get() == 2 {
                        clear_interval(iv2.get().expect("iv is set"));
                    }
                })));
            });
        });
        queue_microtask(|| {
            say("promise");
            queue_microtask(|| say("promise 2"));
        });
        next_tick(|| say("tick"));
        say("main end");
    });
}

#[test]
fn has_ref_after_fire() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "has_ref_after_fire");
    // Documented difference: a Timer that can no longer fire reports false
    // (Node keeps reporting the ref flag of a dead Timeout object).
    let edits = [
        (
            "a.hasRef() after fire: true",
            Some("a.hasRef() after fire: false"),
        ),
        (
            "c.hasRef() after clear: true",
            Some("c.hasRef() after clear: false"),
        ),
    ];
    check_known_difference(name, out, &edits, || {
        let a = set_timeout(5, || say("a fired"));
        let b = set_timeout(5, || say("b fired"));
        b.unref();
        let c = set_timeout(5, || say("c fired (must not happen)"));
        clear_timeout(c);
        set_timeout(20, move || {
            say(format!("a.hasRef() after fire: {}", a.has_ref()));
            say(format!("b.hasRef() after fire: {}", b.has_ref()));
            say(format!("c.hasRef() after clear: {}", c.has_ref()));
        });
    });
}

#[test]
fn has_ref_values() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "has_ref_values");
    check(name, out, || {
        let t = set_timeout(10, || say("timer fired"));
        say(format!("new: {}", t.has_ref()));
        t.unref();
        say(format!("after unref: {}", t.has_ref()));
        t.ref_();
        say(format!("after ref: {}", t.has_ref()));
        let iv = set_interval(1000, || {});
        iv.unref();
        say(format!("interval after unref: {}", iv.has_ref()));
        clear_interval(iv);
    });
}

#[test]
fn immediate_before_later_timer() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "immediate_before_later_timer");
    check(name, out, || {
        set_timeout(50, || say("timeout 50"));
        set_immediate(|| {
            say("immediate 1");
            set_immediate(|| say("immediate 2 (next iteration)"));
        });
        say("main");
    });
}

#[test]
fn immediate_inside_immediate() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "immediate_inside_immediate");
    check(name, out, || {
        set_immediate(|| {
            say("immediate A");
            set_immediate(|| say("immediate D (from A)"));
        });
        set_immediate(|| {
            say("immediate B");
            set_immediate(|| say("immediate E (from B)"));
        });
        set_immediate(|| say("immediate C"));
        say("main");
    });
}

#[test]
fn immediate_vs_timeout_in_immediate() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "immediate_vs_timeout_in_immediate");
    check(name, out, || {
        set_immediate(|| {
            say("immediate");
            set_immediate(|| say("immediate (from immediate)"));
            set_timeout(0, || say("timeout 0 (from immediate)"));
            block(5); // without this block the order would be a real-time race
        });
    });
}

#[test]
fn immediate_vs_timeout_in_timer() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "immediate_vs_timeout_in_timer");
    check(name, out, || {
        set_timeout(10, || {
            say("timer");
            set_timeout(0, || say("timeout 0 (from timer)"));
            set_immediate(|| say("immediate (from timer)"));
        });
    });
}

#[test]
fn interval_cleared_after_n() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "interval_cleared_after_n");
    check(name, out, || {
        let count = Rc::new(Cell::new(0));
        let iv: Rc<Cell<Option<Timer>>> = slot();
        let iv2 = iv.clone();
        iv.set(Some(set_interval(10, move || {
            count.set(count.get() + 1);
            say(format!("interval run {}", count.get()));
            if count.get() == 3 {
                clear_interval(iv2.get().expect("iv is set"));
                say(format!("cleared after {}", count.get()));
            }
        })));
        say("main");
    });
}

#[test]
fn interval_clears_itself_first_run() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "interval_clears_itself_first_run");
    check(name, out, || {
        let iv: Rc<Cell<Option<Timer>>> = slot();
        let iv2 = iv.clone();
        iv.set(Some(set_interval(10, move || {
            say("interval run");
            clear_interval(iv2.get().expect("iv is set"));
            next_tick(|| say("tick after clear"));
            queue_microtask(|| say("micro after clear"));
        })));
        set_timeout(40, || say("timeout 40 (interval did not repeat)"));
    });
}

#[test]
fn interval_with_timeout() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "interval_with_timeout");
    check(name, out, || {
        let count = Rc::new(Cell::new(0));
        let iv: Rc<Cell<Option<Timer>>> = slot();
        let iv2 = iv.clone();
        iv.set(Some(set_interval(40, move || {
            count.set(count.get() + 1);
            say(format!("interval {}", count.get()));
            if count.get() == 3 {
                clear_interval(iv2.get().expect("iv is set"));
            }
        })));
        set_timeout(100, || say("timeout 100"));
    });
}

#[test]
fn io_callback_drains_queues() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "io_callback_drains_queues");
    check(name, out, || {
        read_file(|| {
            say("readFile callback");
            set_timeout(0, || say("timeout 0"));
            set_immediate(|| say("immediate"));
            queue_microtask(|| say("promise"));
            next_tick(|| say("tick"));
            queue_microtask(|| say("microtask"));
            next_tick(|| say("tick 2"));
        });
    });
}

#[test]
fn io_timeout_vs_immediate() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "io_timeout_vs_immediate");
    check(name, out, || {
        read_file(|| {
            say("readFile callback");
            set_timeout(0, || say("timeout 0"));
            set_immediate(|| say("immediate"));
        });
        say("main");
    });
}

#[test]
fn microtask_inside_tick() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "microtask_inside_tick");
    check(name, out, || {
        next_tick(|| {
            say("tick 1");
            queue_microtask(|| say("micro from tick 1"));
            next_tick(|| say("tick 3 (from tick 1)"));
        });
        next_tick(|| say("tick 2"));
        queue_microtask(|| say("micro main"));
    });
}

#[test]
fn overdue_timers_by_deadline() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "overdue_timers_by_deadline");
    check(name, out, || {
        set_timeout(15, || say("t1 (15 ms)"));
        set_timeout(5, || say("t2 (5 ms)"));
        set_timeout(15, || say("t3 (15 ms)"));
        set_timeout(15, || say("t4 (15 ms)"));
        set_timeout(5, || say("t5 (5 ms)"));
        block(40);
        say("main end");
    });
}

#[test]
fn late_loop_runs_each_list_whole() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "late_loop_runs_each_list_whole");
    check(name, out, || {
        set_timeout(100, || say("A (100 ms, due 100)"));
        block(20);
        set_timeout(100, || say("C (100 ms, due 120)"));
        block(30);
        set_timeout(60, || say("B (60 ms, due 110)"));
        block(150);
        say("main end at 200");
    });
}

#[test]
fn late_loop_list_order_by_first_timer() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "late_loop_list_order_by_first_timer");
    check(name, out, || {
        block(5);
        set_timeout(5, || say("5 ms list, first (due 10)"));
        set_timeout(20, || say("20 ms list (due 25)"));
        block(20);
        set_timeout(5, || say("5 ms list, second (due 30)"));
        block(5);
        set_timeout(1, || say("1 ms list (due 31)"));
        block(40);
        say("main end");
    });
}

/// Known difference (design.md): Node leaves a list's expiry at its cleared
/// first timer's deadline. Here A's clear at 6 leaves Node's 10 ms list
/// with expiry 10; if Node's loop wakes at 10 it finds D not due and gives
/// the list a new id, so at 11 the older 8 ms list runs first (F, then D);
/// if it wakes late, at 11 or after, the list's stale expiry puts it first
/// (D, then F). evloop keys the list by D's deadline and keeps its id: D,
/// then F, whatever the timing.
///
/// ```js
/// const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
/// const a = setTimeout(() => console.log('A'), 10);
/// block(1);
/// setTimeout(() => console.log('D (10 ms list, due 11)'), 10);
/// block(2);
/// setTimeout(() => console.log('F (8 ms list, due 11)'), 8);
/// block(2);
/// setTimeout(() => { console.log('C clears A'); clearTimeout(a); }, 0);
/// ```
#[test]
fn cleared_first_timer_leaves_no_stale_list_expiry() {
    let _w = common::watchdog();
    let out = "C clears A\nD (10 ms list, due 11)\nF (8 ms list, due 11)\n";
    check(
        "cleared_first_timer_leaves_no_stale_list_expiry",
        out,
        || {
            let a = set_timeout(10, || say("A"));
            block(1);
            set_timeout(10, || say("D (10 ms list, due 11)"));
            block(2);
            set_timeout(8, || say("F (8 ms list, due 11)"));
            block(2);
            set_timeout(0, move || {
                say("C clears A");
                clear_timeout(a);
            });
        },
    );
}

#[test]
fn timer_this_is_its_handle() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "timer_this_is_its_handle");
    // Documented difference: `has_ref()` is false for a timer that can no
    // longer fire, as a one-shot inside its own callback.
    let edits = [("has ref: true", Some("has ref: false"))];
    check_known_difference(name, out, &edits, || {
        let n = Rc::new(Cell::new(0));
        let _ = set_interval_with(5, move |this| {
            n.set(n.get() + 1);
            say(format!("interval run {}", n.get()));
            if n.get() == 3 {
                clear_interval(this);
                say("interval cleared through this");
                let slot = Rc::new(Cell::new(None::<Timer>));
                let s = slot.clone();
                let t = set_timeout_with(30, move |this| {
                    say(format!(
                        "timeout is its own handle: {}",
                        Some(this) == s.get()
                    ));
                    say(format!("has ref: {}", this.has_ref()));
                });
                slot.set(Some(t));
                say(format!("refresh returns the timer: {}", t.refresh() == t));
            }
        });
    });
}

#[test]
fn promise_chain_vs_tick() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "promise_chain_vs_tick");
    check(name, out, || {
        next_tick(|| say("tick 1"));
        // Promise.resolve().then(A1).then(A2).then(A3)
        queue_microtask(|| {
            say("chain A step 1");
            next_tick(|| say("tick 2 (from A1)"));
            queue_microtask(|| {
                say("chain A step 2");
                queue_microtask(|| say("chain A step 3"));
            });
        });
        // Promise.resolve().then(B1).then(B2)
        queue_microtask(|| {
            say("chain B step 1");
            queue_microtask(|| say("chain B step 2"));
        });
        queue_microtask(|| say("queueMicrotask"));
        say("main");
    });
}

#[test]
fn recursive_microtask_chain() {
    let _w = common::watchdog();
    fn chain(n: u32) {
        say(format!("micro depth {n}"));
        if n == 1 {
            next_tick(|| say("tick from depth 1"));
        }
        if n < 4 {
            queue_microtask(move || chain(n + 1));
        }
    }
    let (name, out) = node_expected!("order", "recursive_microtask_chain");
    check(name, out, || {
        queue_microtask(|| chain(1));
        set_timeout(0, || say("timeout"));
        say("main");
    });
}

#[test]
fn recursive_tick_depth3() {
    let _w = common::watchdog();
    fn chain(n: u32) {
        say(format!("tick depth {n}"));
        if n < 3 {
            next_tick(move || chain(n + 1));
        }
    }
    let (name, out) = node_expected!("order", "recursive_tick_depth3");
    check(name, out, || {
        set_timeout(0, || say("timeout 0"));
        next_tick(|| chain(1));
        queue_microtask(|| say("micro (after all ticks)"));
        say("main");
    });
}

#[test]
fn refresh_pushes_deadline() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "refresh_pushes_deadline");
    check(name, out, || {
        let t = set_timeout(60, || say("60 ms timer (refreshed)"));
        set_timeout(30, move || {
            say("30 ms: refresh");
            t.refresh();
        });
        set_timeout(70, || say("70 ms timer"));
    });
}

#[test]
fn refresh_reactivates_fired_timer() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "refresh_reactivates_fired_timer");
    // Documented difference: a fired one-shot timer's FnOnce is spent, so
    // refresh() leaves it inactive instead of running it again.
    let edits = [("timer run 2", None)];
    check_known_difference(name, out, &edits, || {
        let runs = Rc::new(Cell::new(0));
        let t = set_timeout(10, move || {
            runs.set(runs.get() + 1);
            say(format!("timer run {}", runs.get()));
        });
        set_timeout(30, move || {
            say("30 ms: refresh the fired timer");
            assert!(
                !t.refresh().is_active(),
                "a spent one-shot timer cannot be refreshed"
            );
        });
    });
}

#[test]
fn sync_before_async() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "sync_before_async");
    check(name, out, || {
        say("main start");
        set_timeout(30, || say("timeout 30"));
        set_immediate(|| say("immediate"));
        queue_microtask(|| say("microtask"));
        next_tick(|| say("tick"));
        queue_microtask(|| say("promise then"));
        say("main end");
    });
}

#[test]
fn tick_before_microtask() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "tick_before_microtask");
    check(name, out, || {
        queue_microtask(|| say("micro 1"));
        queue_microtask(|| say("promise 1"));
        next_tick(|| say("tick 1"));
        queue_microtask(|| say("micro 2"));
        next_tick(|| say("tick 2"));
        queue_microtask(|| say("promise 2"));
        next_tick(|| say("tick 3"));
        say("main");
    });
}

#[test]
fn tick_inside_microtask() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "tick_inside_microtask");
    check(name, out, || {
        next_tick(|| say("tick A"));
        queue_microtask(|| {
            say("micro 1");
            next_tick(|| say("tick from micro 1"));
            queue_microtask(|| say("micro 3 (from micro 1)"));
        });
        queue_microtask(|| say("micro 2"));
        set_immediate(|| say("immediate"));
    });
}

#[test]
fn tick_micro_ping_pong() {
    let _w = common::watchdog();
    fn tick(n: u32) {
        say(format!("tick {n}"));
        if n < 3 {
            queue_microtask(move || micro(n));
        }
    }
    fn micro(n: u32) {
        say(format!("micro {n}"));
        next_tick(move || tick(n + 1));
    }
    let (name, out) = node_expected!("order", "tick_micro_ping_pong");
    check(name, out, || {
        next_tick(|| tick(1));
        queue_microtask(|| say("micro main"));
        set_immediate(|| say("immediate"));
    });
}

#[test]
fn ticks_in_timer_before_immediates() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "ticks_in_timer_before_immediates");
    check(name, out, || {
        set_timeout(10, || {
            say("timer");
            set_immediate(|| say("immediate"));
            queue_microtask(|| {
                say("promise");
                next_tick(|| say("tick from promise"));
            });
            next_tick(|| {
                say("tick");
                queue_microtask(|| say("micro from tick"));
            });
        });
    });
}

#[test]
fn timer_deadline_from_fresh_clock() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "timer_deadline_from_fresh_clock");
    check(name, out, || {
        set_timeout(100, || say("A: 100 ms timer set at 0 ms"));
        block(200);
        set_timeout(50, || say("B: 50 ms timer set at 200 ms"));
        say("main done");
    });
}

#[test]
fn timer_deadline_order() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "timer_deadline_order");
    check(name, out, || {
        set_timeout(30, || say("30 ms"));
        set_timeout(10, || say("10 ms (first)"));
        set_timeout(20, || say("20 ms"));
        set_timeout(10, || say("10 ms (second)"));
        say("main");
    });
}

#[test]
fn timer_equal_deadline_creation_order() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "timer_equal_deadline_creation_order");
    check(name, out, || {
        for name in ["A", "B", "C", "D", "E"] {
            set_timeout(10, move || say(format!("timer {name}")));
        }
        say("main");
    });
}

#[test]
fn timer_inside_timer_next_pass() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "timer_inside_timer_next_pass");
    check(name, out, || {
        set_timeout(10, || {
            say("timer A");
            set_timeout(0, || say("timer C (0 ms, from A)"));
            set_immediate(|| say("immediate (from A)"));
            block(5); // C is already due, but still waits for the next timers pass
        });
        set_timeout(10, || say("timer B"));
        block(20); // A and B are both due in the first pass
    });
}

#[test]
fn uncaught_exception_in_immediate() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "uncaught_exception_in_immediate");
    check(name, out, || {
        log_uncaught_in_handler();
        set_immediate(|| say("immediate A"));
        set_immediate(|| {
            say("immediate B throws");
            panic!("bang");
        });
        set_immediate(|| say("immediate C"));
        set_timeout(50, || say("timeout 50"));
    });
}

#[test]
fn uncaught_exception_in_timer() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "uncaught_exception_in_timer");
    check(name, out, || {
        log_uncaught_in_handler();
        set_timeout(10, || {
            say("timer 1 throws");
            set_immediate(|| say("immediate from timer 1"));
            panic!("boom");
        });
        set_timeout(10, || say("timer 2 (same pass)"));
        set_timeout(100, || say("timer 3 (100 ms)"));
        block(25); // timers 1 and 2 are both due in the first pass
    });
}

/// ```js
/// process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
/// setImmediate(() => {
///   console.log('immediate A throws');
///   process.nextTick(() => console.log('tick from A'));
///   queueMicrotask(() => console.log('microtask from A'));
///   throw new Error('A');
/// });
/// setImmediate(() => {
///   console.log('immediate B');
///   process.nextTick(() => console.log('tick from B'));
/// });
/// setImmediate(() => console.log('immediate C'));
/// ```
/// (issue 18)
#[test]
fn uncaught_immediate_ticks_wait() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "uncaught_immediate_ticks_wait");
    check(name, out, || {
        log_uncaught_in_handler();
        set_immediate(|| {
            say("immediate A throws");
            next_tick(|| say("tick from A"));
            queue_microtask(|| say("microtask from A"));
            panic!("A");
        });
        set_immediate(|| {
            say("immediate B");
            next_tick(|| say("tick from B"));
        });
        set_immediate(|| say("immediate C"));
    });
}

/// ```js
/// process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
/// const fs = require('fs');
/// fs.readFile(__filename, () => {
///   console.log('readFile callback throws');
///   setImmediate(() => console.log('immediate from the callback'));
///   process.nextTick(() => console.log('tick from the callback'));
///   queueMicrotask(() => console.log('microtask from the callback'));
///   throw new Error('A');
/// });
/// ```
/// (issue 18)
#[test]
fn uncaught_io_ticks_drain() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "uncaught_io_ticks_drain");
    check(name, out, || {
        log_uncaught_in_handler();
        read_file(|| {
            say("readFile callback throws");
            set_immediate(|| say("immediate from the callback"));
            next_tick(|| say("tick from the callback"));
            queue_microtask(|| say("microtask from the callback"));
            panic!("A");
        });
    });
}

/// ```js
/// process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
/// setImmediate(() => {
///   console.log('immediate throws');
///   process.nextTick(() => console.log('tick'));
///   queueMicrotask(() => console.log('microtask'));
///   throw new Error('A');
/// });
/// ```
/// (issue 18)
#[test]
fn uncaught_last_callback_ticks_run() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "uncaught_last_callback_ticks_run");
    check(name, out, || {
        log_uncaught_in_handler();
        set_immediate(|| {
            say("immediate throws");
            next_tick(|| say("tick"));
            queue_microtask(|| say("microtask"));
            panic!("A");
        });
    });
}

/// ```js
/// process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
/// setImmediate(() => {
///   console.log('immediate 1');
///   queueMicrotask(() => {
///     console.log('microtask A throws');
///     process.nextTick(() => console.log('tick from A'));
///     queueMicrotask(() => console.log('microtask from A'));
///     throw new Error('A');
///   });
///   queueMicrotask(() => console.log('microtask B'));
/// });
/// setImmediate(() => console.log('immediate 2'));
/// ```
/// (issue 18)
#[test]
fn uncaught_microtask_queue_goes_on() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "uncaught_microtask_queue_goes_on");
    check(name, out, || {
        log_uncaught_in_handler();
        set_immediate(|| {
            say("immediate 1");
            queue_microtask(|| {
                say("microtask A throws");
                next_tick(|| say("tick from A"));
                queue_microtask(|| say("microtask from A"));
                panic!("A");
            });
            queue_microtask(|| say("microtask B"));
        });
        set_immediate(|| say("immediate 2"));
    });
}

/// ```js
/// const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
/// process.on('uncaughtException', (err) => console.log('handler: ' + err.message));
/// setTimeout(() => {
///   console.log('timer A throws');
///   process.nextTick(() => console.log('tick from A'));
///   queueMicrotask(() => console.log('microtask from A'));
///   throw new Error('A');
/// }, 10);
/// setTimeout(() => {
///   console.log('timer B');
///   process.nextTick(() => console.log('tick from B'));
/// }, 10);
/// setImmediate(() => console.log('immediate'));
/// block(25); // both timers are due in the first pass
/// ```
/// (issue 18)
#[test]
fn uncaught_timer_ticks_wait() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "uncaught_timer_ticks_wait");
    check(name, out, || {
        log_uncaught_in_handler();
        set_timeout(10, || {
            say("timer A throws");
            next_tick(|| say("tick from A"));
            queue_microtask(|| say("microtask from A"));
            panic!("A");
        });
        set_timeout(10, || {
            say("timer B");
            next_tick(|| say("tick from B"));
        });
        set_immediate(|| say("immediate"));
        block(25); // both timers are due in the first pass
    });
}

#[test]
fn unref_interval_runs_while_alive() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "unref_interval_runs_while_alive");
    check(name, out, || {
        let count = Rc::new(Cell::new(0));
        let c = count.clone();
        let iv = set_interval(50, move || {
            c.set(c.get() + 1);
            say(format!("unref interval run {}", c.get()));
        });
        iv.unref();
        set_timeout(125, move || {
            say(format!(
                "ref timeout 125 ms, interval ran {} times",
                count.get()
            ))
        });
    });
}

#[test]
fn unref_then_ref() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "unref_then_ref");
    check(name, out, || {
        let t = set_timeout(20, || say("timer fires after unref+ref"));
        t.unref();
        t.ref_();
        let u = set_timeout(100, || say("only unref (must not happen)"));
        u.unref();
        say("main");
    });
}

#[test]
fn unref_timer_fires_if_alive() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "unref_timer_fires_if_alive");
    check(name, out, || {
        let t = set_timeout(10, || say("unref 10 ms timer fires"));
        t.unref();
        set_timeout(40, || say("ref 40 ms timer"));
        say("main");
    });
}

#[test]
fn unref_timer_no_keepalive() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "unref_timer_no_keepalive");
    check(name, out, || {
        let t = set_timeout(80, || say("unref 80 ms timer (must not happen)"));
        t.unref();
        set_timeout(30, || say("ref 30 ms timer"));
        set_immediate(|| say("immediate"));
        say("main");
    });
}

/// ```js
/// setImmediate(() => {
///   const t = setTimeout(() => console.log('unref timer (due during the immediate)'), 10);
///   t.unref();
///   block(30);
///   console.log('immediate (the last ref\'d handle)');
/// });
/// console.log('main');
/// ```
/// (issue 18) libuv 1.46's `uv_run` ends each iteration with the timers,
/// and only then asks whether the loop is alive.
#[test]
fn unref_timer_last_iteration() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("order", "unref_timer_last_iteration");
    check(name, out, || {
        set_immediate(|| {
            let t = set_timeout(10, || say("unref timer (due during the immediate)"));
            t.unref();
            block(30);
            say("immediate (the last ref'd handle)");
        });
        say("main");
    });
}

/// The main script's `setTimeout(0)` against `setImmediate`: whether the
/// timeout runs first depends on whether 1 ms passed between scheduling it
/// and the first timers phase, so Node prints either order.
///
/// ```js
/// setTimeout(() => console.log('timeout'), 0);
/// setImmediate(() => console.log('immediate'));
/// ```
///
/// On real time evloop may print either: the test accepts exactly those
/// two. On virtual time the clock stands still, so the immediate comes
/// first; with 1 ms of blocking in the main script the timer is due in the
/// first timers phase and comes first, as in Node.
#[test]
fn main_script_timeout_0_against_immediate_is_a_race() {
    let _w = common::watchdog();
    let program = |block_ms: u64| {
        move || {
            set_timeout(0, || say("timeout"));
            set_immediate(|| say("immediate"));
            if block_ms > 0 {
                block(block_ms);
            }
        }
    };
    common::take_lines();
    evloop::run(program(0));
    let real = common::take_lines();
    assert!(
        real == ["timeout", "immediate"] || real == ["immediate", "timeout"],
        "{real:?}"
    );
    for (block_ms, first) in [(0, "immediate"), (1, "timeout")] {
        let lp = evloop::EventLoop::builder()
            .virtual_time(true)
            .build()
            .unwrap();
        lp.run_main(program(block_ms));
        let lines = common::take_lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], first, "blocked {block_ms} ms: {lines:?}");
    }
}

/// Every scenario in `tests/node/order` has a test above (keeps the two in sync).
#[test]
fn every_node_scenario_is_ported() {
    let _w = common::watchdog();
    common::check_every_scenario_ported("order", include_str!("node_order.rs"));
}

/// When `node` is on PATH, re-runs every `tests/node/order/*.js` and checks
/// its stdout is still its `.out` (`common::check_node_outputs`: a script
/// whose output differs is re-run alone before it counts as a failure,
/// because a few scenarios depend on real time and a loaded machine can
/// delay Node).
#[test]
fn node_outputs_are_current() {
    let _w = common::watchdog();
    common::check_node_outputs("order", 34);
}

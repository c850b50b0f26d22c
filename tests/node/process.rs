//! `evloop::process` events: Node.js scenarios of `tests/node/process/`
//! ported, and what the scripts cannot show (stderr, a panic that ends the
//! run).
//!
//! Conventions as in `tests/node/node_order.rs`: `console.log(x)` is
//! `say(x)`; `process.on(name, f)` is `process::on(Marker, f)`;
//! `Promise.resolve().then(f)` is `queue_microtask(f)`;
//! `process.exitCode = n` is `process::set_exit_code(n)`.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use crate::common;

use crate::common::{check, node_expected, say, take_lines};

use evloop::process::{self, BeforeExit, Exit, ProcessWarning, Warning};
use evloop::{Event, next_tick, queue_microtask, set_immediate, set_timeout};

#[test]
fn warning_on_next_tick() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "warning_on_next_tick");
    check(name, out, || {
        process::on(Warning, |w| {
            say(format!("warning {} {:?}", w.name(), w.message()));
        });
        next_tick(|| say("tick before"));
        set_timeout(2u64.pow(32), || {
            say("timeout 1 ms");
            let _ = set_immediate(|| {
                say("immediate");
                process::emit_warning("from an immediate");
                next_tick(|| say("tick after it"));
            });
        });
        say("after setTimeout");
        next_tick(|| say("tick between"));
        process::emit_warning(
            ProcessWarning::new("custom")
                .with_name("MyWarning")
                .with_code("E1"),
        );
        queue_microtask(|| say("microtask"));
        say("main done");
    });
}

#[test]
fn max_listeners_warning() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "max_listeners_warning");
    check(name, out, || {
        evloop::events! { struct Data("data"): (); }
        process::on(Warning, |w| {
            say(format!("warning {}: {}", w.name(), w.message()))
        });
        let e = evloop::EventEmitter::new();
        next_tick(|| say("tick before"));
        for _ in 0..12 {
            e.on(Data, |()| {});
        }
        say(format!("listeners {}", e.listener_count(Data::NAME)));
        next_tick(|| say("tick after"));
    });
}

#[test]
fn before_exit_more_work() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "before_exit_more_work");
    check(name, out, || {
        let rounds = Rc::new(Cell::new(0));
        process::on(BeforeExit, move |code| {
            say(format!("beforeExit {code} round {}", rounds.get()));
            rounds.set(rounds.get() + 1);
            if rounds.get() <= 2 {
                next_tick(|| say("tick from beforeExit"));
                queue_microtask(|| say("microtask from beforeExit"));
                set_timeout(10, || say("timeout from beforeExit"));
                let _ = set_immediate(|| say("immediate from beforeExit"));
            }
        });
        process::on(Exit, |code| say(format!("exit {code}")));
        set_timeout(10, || say("timeout from main"));
        say("main");
    });
}

#[test]
fn exit_no_tick() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "exit_no_tick");
    check(name, out, || {
        process::on(Exit, |code| {
            say(format!("exit 1 {code}"));
            next_tick(|| say("tick in exit: never"));
            queue_microtask(|| {
                say("microtask in exit");
                next_tick(|| say("tick from that microtask: never"));
            });
            set_timeout(0, || say("timeout in exit: never"));
            let _ = set_immediate(|| say("immediate in exit: never"));
        });
        process::on(Exit, |_| say("exit 2"));
        process::set_exit_code(3);
        let _ = set_immediate(|| say("immediate"));
        say("main");
    });
}

#[test]
fn before_exit_once_and_off() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "before_exit_once_and_off");
    check(name, out, || {
        let a = process::on(BeforeExit, |_| say("a"));
        process::once(BeforeExit, move |_| {
            let p = process::emitter();
            say(format!(
                "once, count {}",
                p.listener_count(BeforeExit::NAME)
            ));
            p.off(BeforeExit, a);
            set_timeout(10, || say("more work"));
        });
        process::on(BeforeExit, |_| say("b"));
        say(format!(
            "listeners {}",
            process::emitter().listener_count(BeforeExit::NAME)
        ));
    });
}

/// A panic nobody handles ends the run: neither `beforeExit` nor `exit`.
#[test]
fn no_exit_events_after_an_unhandled_panic() {
    let _w = common::watchdog();
    take_lines();
    let lp = evloop::EventLoop::builder()
        .virtual_time(true)
        .build()
        .expect("a loop");
    let run = catch_unwind(AssertUnwindSafe(|| {
        lp.run_main(|| {
            process::on(BeforeExit, |_| say("beforeExit"));
            process::on(Exit, |_| say("exit"));
            set_timeout(5, || panic!("boom"));
        })
    }));
    assert!(run.is_err());
    assert_eq!(take_lines(), Vec::<String>::new());
}

/// `EventLoop::run` is `uv_run`: it emits no process event; nor does a
/// main script that `stop()` ended emit `beforeExit` (its `exit` still
/// comes).
#[test]
fn uv_run_and_stop_emit_no_before_exit() {
    let _w = common::watchdog();
    take_lines();
    let lp = evloop::EventLoop::builder()
        .virtual_time(true)
        .build()
        .expect("a loop");
    lp.enter(|| {
        process::on(BeforeExit, |_| say("beforeExit"));
        process::on(Exit, |_| say("exit"));
        set_timeout(5, || say("timer"));
    });
    assert!(!lp.run(evloop::RunMode::Default));
    assert_eq!(take_lines(), ["timer"]);
    lp.run_main(|| {
        set_timeout(5, || {
            say("timer, stop");
            evloop::stop();
        });
        set_timeout(10, || say("after the stop"));
    });
    assert_eq!(take_lines(), ["timer, stop", "exit"]);
}

/// A panic in a `beforeExit` listener is an uncaught panic: a handler takes
/// it and the loop goes on to `exit`.
#[test]
fn a_panic_in_before_exit_goes_to_the_handler() {
    let _w = common::watchdog();
    take_lines();
    let lp = evloop::EventLoop::builder()
        .virtual_time(true)
        .on_uncaught_panic(|p| say(format!("handler: {}", p.message().unwrap_or("?"))))
        .build()
        .expect("a loop");
    lp.run_main(|| {
        process::once(BeforeExit, |_| panic!("in beforeExit"));
        process::on(Exit, |_| say("exit"));
    });
    assert_eq!(take_lines(), ["handler: in beforeExit", "exit"]);
}

/// The process emitter is per loop, and a loop's listeners drop with it.
#[test]
fn one_process_emitter_per_loop() {
    let _w = common::watchdog();
    let dropped = Rc::new(Cell::new(false));
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let lp = evloop::EventLoop::new().expect("a loop");
    let flag = Flag(dropped.clone());
    lp.enter(move || {
        process::on(Exit, move |_| {
            let _ = &flag;
        });
        assert_eq!(process::emitter().listener_count(Exit::NAME), 1);
    });
    evloop::run(|| assert_eq!(process::emitter().listener_count(Exit::NAME), 0));
    assert!(!dropped.get());
    drop(lp);
    assert!(dropped.get());
}

#[test]
fn every_node_scenario_is_ported() {
    let _w = common::watchdog();
    common::check_every_scenario_ported("process", include_str!("process.rs"));
}

#[test]
fn node_outputs_are_current() {
    let _w = common::watchdog();
    common::check_node_outputs("process", 5);
}

/// The process functions need a running loop (the emitter is the loop's),
/// and say so; `emit_warning` alone works without one (it prints at once).
#[test]
fn process_functions_need_a_running_loop() {
    let _w = common::watchdog();
    let err = catch_unwind(|| process::on(Exit, |_| {})).unwrap_err();
    assert!(
        common::panic_message(&*err).contains("process::on() called with no event loop running"),
        "{:?}",
        common::panic_message(&*err)
    );
    let err = catch_unwind(process::emitter).unwrap_err();
    assert!(common::panic_message(&*err).contains("process::emitter() called with no event loop"));
    process::emit_warning(ProcessWarning::new("no loop").with_name("TestWarning"));
}

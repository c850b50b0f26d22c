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

use evloop::process::{
    self, BeforeExit, Exit, ProcessWarning, Rejection, RejectionHandled, UnhandledRejection,
    UnhandledRejections, Warning,
};
use evloop::{
    Event, Task, UncaughtPanic, next_tick, promise, queue_microtask, set_immediate, set_timeout,
    set_uncaught_panic_handler, spawn, spawn_fallible,
};

/// `async function fail(reason) { throw reason; }` called: a task that
/// fails at once.
#[track_caller]
fn fail(reason: &'static str) -> Task<Result<(), &'static str>> {
    spawn_fallible(async move { Err(reason) })
}

/// A rejection's reason as `console.log` shows a string: without the
/// quotes of its `Debug` text.
fn reason(r: &Rejection) -> &str {
    r.reason().trim_matches('"')
}

/// `p.catch((e) => console.log('caught', e))`, detached.
fn catch(p: Task<Result<(), &'static str>>) {
    spawn(async move {
        if let Err(e) = p.await {
            say(format!("caught {e}"));
        }
    })
    .detach();
}

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
                set_timeout(50, || say("timeout from beforeExit"));
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

#[test]
fn unhandled_rejection_after_drain() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "unhandled_rejection_after_drain");
    check(name, out, || {
        process::on(UnhandledRejection, |r| {
            say(format!("unhandledRejection {}", reason(r)));
        });
        set_timeout(50, || say("timeout"));
        let _ = set_immediate(|| say("immediate"));
        fail("from main").detach();
        next_tick(|| say("tick"));
        queue_microtask(|| {
            say("microtask");
            next_tick(|| say("tick from the microtask"));
        });
        say("main");
    });
}

#[test]
fn handler_in_tick_in_time() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "handler_in_tick_in_time");
    check(name, out, || {
        process::on(UnhandledRejection, |r| {
            say(format!("unhandledRejection {}", reason(r)));
        });
        process::on(RejectionHandled, |_| say("rejectionHandled"));
        let a = fail("a");
        let b = fail("b");
        let c = fail("c");
        next_tick(move || catch(a));
        queue_microtask(move || catch(b));
        let _ = set_immediate(move || {
            say("immediate");
            catch(c);
            next_tick(|| say("tick after the late catch"));
        });
        set_timeout(50, || say("timeout"));
        say("main");
    });
}

#[test]
fn default_throw_is_uncaught() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "default_throw_is_uncaught");
    check(name, out, || {
        set_uncaught_panic_handler(Some(Box::new(|p: UncaughtPanic| {
            // `err.message`: the reason, at the end of the message.
            let message = p.message().unwrap_or_default();
            let reason = message.rsplit(": ").next().unwrap_or_default();
            say(format!(
                "uncaught: {} {}",
                reason.trim_matches('"'),
                p.origin()
            ));
        })));
        spawn(async {
            let a = promise(|r| {
                set_timeout(10, move || r.resolve("a"));
            });
            let b = fail("b failed");
            say("awaiting a");
            say(format!("got {}", a.await.expect("resolved")));
            if let Err(e) = b.await {
                say(format!("caught late: {e}"));
            }
            say("main done");
        })
        .detach();
        process::on(Exit, |_| say("exit"));
    });
}

#[test]
fn race_loser_is_handled() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "race_loser_is_handled");
    check(name, out, || {
        process::on(UnhandledRejection, |r| {
            say(format!("unhandledRejection {}", reason(r)));
        });
        fn settle_after(
            ms: u64,
            outcome: Result<&'static str, &'static str>,
        ) -> Task<Result<&'static str, &'static str>> {
            spawn_fallible(async move {
                evloop::sleep(ms).await;
                outcome
            })
        }
        spawn(async {
            let winner = settle_after(50, Ok("winner"));
            let loser = settle_after(100, Err("loser"));
            settle_after(150, Err("never awaited")).detach();
            let won = evloop::race([winner, loser]).await;
            say(format!("race: {}", won.expect("the winner resolves")));
        })
        .detach();
        set_timeout(200, || say("after both"));
    });
}

/// With no handler, the default mode's rejection unwinds out of the run,
/// as a callback's panic does, naming the task's spawn site; neither
/// `beforeExit` nor `exit` follows.
#[test]
fn an_unhandled_rejection_with_no_handler_unwinds_out_of_the_run() {
    let _w = common::watchdog();
    take_lines();
    let lp = evloop::EventLoop::builder()
        .virtual_time(true)
        .build()
        .expect("a loop");
    let line = line!() + 4;
    let run = catch_unwind(AssertUnwindSafe(|| {
        lp.run_main(|| {
            process::on(Exit, |_| say("exit"));
            set_timeout(5, || fail("nobody").detach());
            set_timeout(10, || say("never"));
        })
    }));
    let err = run.unwrap_err();
    let message = common::panic_message(&*err);
    assert!(
        message.contains("unhandled rejection") && message.contains("\"nobody\""),
        "{message}"
    );
    assert!(
        message.contains(&format!("{}:{line}", file!())),
        "{message}"
    );
    assert_eq!(take_lines(), Vec::<String>::new());
}

/// Each mode of `--unhandled-rejections`, as the script's child processes
/// run it: one loop per case, the mode set on its builder.
#[test]
fn unhandled_rejection_modes() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("process", "unhandled_rejection_modes");
    let case = |mode: UnhandledRejections, listen: bool| -> String {
        take_lines();
        let lp = evloop::EventLoop::builder()
            .virtual_time(true)
            .unhandled_rejections(mode)
            .on_uncaught_panic(|p| say(format!("raised {}", p.origin())))
            .build()
            .expect("a loop");
        lp.run_main(move || {
            if listen {
                process::on(UnhandledRejection, |r| {
                    say(format!("unhandledRejection {}", reason(r)));
                });
            }
            process::on(Warning, |w| say(w.name().to_string()));
            process::on(Exit, |code| say(format!("exit {code}")));
            fail("x").detach();
        });
        take_lines().join(" / ")
    };
    use UnhandledRejections::*;
    let mut lines = Vec::new();
    for (mode, flag) in [
        (Throw, "throw"),
        (Strict, "strict"),
        (Warn, "warn"),
        (None, "none"),
        (WarnWithErrorCode, "warn-with-error-code"),
    ] {
        for listen in [true, false] {
            let who = if listen {
                "listening"
            } else {
                "nobody listens"
            };
            lines.push(format!("{flag}, {who}: {}", case(mode, listen)));
        }
    }
    check(name, out, move || {
        for line in lines {
            say(line);
        }
    });
}

/// A panic in an `unhandledRejection` listener is an uncaught panic of its
/// own; the rejection, which had a listener, is not raised again.
#[test]
fn a_panic_in_an_unhandled_rejection_listener_goes_to_the_handler() {
    let _w = common::watchdog();
    take_lines();
    let lp = loop_with_a_handler();
    lp.run_main(|| {
        process::on(UnhandledRejection, |r| panic!("listener saw {}", reason(r)));
        fail("x").detach();
        let _ = set_immediate(|| say("immediate"));
    });
    assert_eq!(
        take_lines(),
        ["handler: listener saw x (uncaughtException)", "immediate"]
    );
}

/// A late handler with nobody listening for `rejectionHandled` is a
/// `PromiseRejectionHandledWarning`; an awaited or a plain `spawn` task is
/// never a rejection.
#[test]
fn handled_late_without_a_listener_warns() {
    let _w = common::watchdog();
    take_lines();
    let lp = evloop::EventLoop::builder()
        .virtual_time(true)
        .unhandled_rejections(UnhandledRejections::None)
        .build()
        .expect("a loop");
    lp.run_main(|| {
        process::on(Warning, |w| say(format!("{}: {}", w.name(), w.message())));
        process::on(UnhandledRejection, |r| say(format!("unhandled {}", r.id())));
        let late = fail("late");
        let awaited = fail("awaited");
        spawn(async move {
            let _ = awaited.await;
        })
        .detach();
        spawn(async { Err::<(), _>("plain spawn") }).detach();
        set_timeout(5, move || catch(late));
    });
    assert_eq!(
        take_lines(),
        [
            "unhandled 1",
            "caught late",
            "PromiseRejectionHandledWarning: Promise rejection was handled asynchronously \
             (rejection id: 1)"
        ]
    );
}

/// Known difference: a `Deferred` (`promise()`, `deferred()`) is a plain
/// future, so one resolved with an `Err` that nobody awaits is no
/// rejection (a JavaScript promise rejected and never awaited is); spawned
/// with `spawn_fallible`, it is one.
#[test]
fn a_deferred_err_nobody_awaits_is_no_rejection() {
    let _w = common::watchdog();
    take_lines();
    let lp = evloop::EventLoop::builder()
        .virtual_time(true)
        .build()
        .expect("a loop");
    lp.run_main(|| {
        process::on(UnhandledRejection, |r| {
            say(format!("unhandled {}", reason(r)))
        });
        let (resolver, deferred) = evloop::deferred::<Result<(), &str>>();
        resolver.resolve(Err("dropped"));
        drop(deferred);
        let (resolver, deferred) = evloop::deferred::<Result<(), &str>>();
        resolver.resolve(Err("spawned"));
        spawn_fallible(async move { deferred.await.expect("resolved") }).detach();
    });
    assert_eq!(take_lines(), ["unhandled spawned"]);
}

/// evloop's own warning: tasks left waiting on what can never wake them
/// when the main script ends are a process warning, before `exit`.
#[test]
fn stuck_tasks_warn_before_exit() {
    let _w = common::watchdog();
    take_lines();
    // Holds the resolver (which wakes nothing: a task waiting on it cannot
    // keep the loop alive) until after the loop is gone.
    let keep = Rc::new(Cell::new(None));
    let lp = evloop::EventLoop::builder()
        .virtual_time(true)
        .build()
        .expect("a loop");
    let k = keep.clone();
    lp.run_main(move || {
        set_timeout(5, || {
            // Installed by a callback, after the run began.
            process::on(Warning, |w| say(format!("{}: {}", w.name(), w.message())));
            process::on(BeforeExit, |_| say("beforeExit"));
            process::on(Exit, |_| say("exit"));
        });
        let (resolver, never) = evloop::deferred::<()>();
        k.set(Some(resolver));
        spawn(async move {
            let _ = never.await;
        })
        .detach();
    });
    assert_eq!(
        take_lines(),
        [
            "beforeExit",
            "Warning: 1 task(s) still pending, but nothing can wake them (like promises \
             that never settle); the loop exits",
            "exit"
        ]
    );
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
    let lp = loop_with_a_handler();
    lp.run_main(|| {
        process::once(BeforeExit, |_| panic!("in beforeExit"));
        process::on(Exit, |_| say("exit"));
    });
    assert_eq!(
        take_lines(),
        ["handler: in beforeExit (uncaughtException)", "exit"]
    );
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
    common::check_node_outputs("process", 10);
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

/// A loop on virtual time whose uncaught-panic handler says what it took.
fn loop_with_a_handler() -> evloop::EventLoop {
    evloop::EventLoop::builder()
        .virtual_time(true)
        .on_uncaught_panic(|p| {
            say(format!(
                "handler: {} ({})",
                p.message().unwrap_or("?"),
                p.origin()
            ))
        })
        .build()
        .expect("a loop")
}

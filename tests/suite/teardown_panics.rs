//! A dropped loop whose captures panic when dropped (issue 19, item 5):
//! each panicking destructor is caught and logged (error, target `evloop`,
//! naming what was dropped and where it was scheduled), everything else is
//! still dropped exactly once, no panic escapes `drop(EventLoop)`, and a
//! loop dropped while a callback's panic unwinds out of `evloop::run` does
//! not abort the process (a second panic during unwinding would): that
//! panic is what comes out.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::process::Command;
use std::sync::mpsc;
use std::task::{Context, Poll};

use crate::common;
use crate::ledger::{Ledger, Probe, hold};

use evloop::{
    Check, EventLoop, Idle, ParentPort, TIMEOUT_MAX, Worker, net, next_tick, process,
    queue_microtask, queue_work, set_immediate, set_interval, set_timeout, sleep, spawn,
};

/// A delay no run reaches.
const NEVER: u32 = TIMEOUT_MAX;

/// The errors evloop logged on this thread since `common::logs::capture`.
fn logged_errors() -> Vec<String> {
    common::logs::take()
        .into_iter()
        .filter(|l| l.level == log::Level::Error && l.target == "evloop")
        .map(|l| l.text)
        .collect()
}

#[test]
fn panicking_destructors_at_teardown_are_logged_and_the_rest_still_drops() {
    let _w = common::watchdog();
    common::logs::capture();
    let ledger = Ledger::default();
    // One pool thread, held by a job until after the drop: the next job
    // stays queued, and is cancelled.
    let lp = EventLoop::builder().threadpool_size(1).build().unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let l = ledger.clone();
    let cancelled = lp.enter(move || {
        let p = l.panicking_probe("timer");
        set_timeout(NEVER, move || hold(&p));
        let p = l.probe("interval");
        let _interval = set_interval(NEVER, move || hold(&p));
        let p = l.panicking_probe("close callback");
        set_timeout(NEVER, || {}).close(move || hold(&p));
        let p = l.panicking_probe("immediate");
        set_immediate(move || hold(&p));
        let p = l.probe("unref'd immediate");
        set_immediate(move || hold(&p)).unref();
        let p = l.panicking_probe("check callback");
        Check::new().start(move |_| hold(&p));
        let p = l.probe("idle callback");
        Idle::new().start(move |_| hold(&p));
        let p = l.panicking_probe("task");
        spawn(async move {
            hold(&p);
            sleep(NEVER).await;
        })
        .detach();
        let p = l.probe("second task");
        spawn(async move {
            hold(&p);
            sleep(NEVER).await;
        })
        .detach();
        let p = l.panicking_probe("running job callback");
        let _ = queue_work(
            move || {
                let _ = started_tx.send(());
                let _ = release_rx.recv();
            },
            move |_| hold(&p),
        );
        let p = l.panicking_probe("cancelled job callback");
        let cancelled = queue_work(|| {}, move |_| hold(&p));
        // Two handlers of one server, dropped together at teardown.
        let p = l.panicking_probe("server connection handler");
        let server = net::create_server(move |_| hold(&p));
        let p = l.panicking_probe("server error handler");
        server.on_error(move |_| hold(&p));
        server.listen("127.15.0.3:0").unwrap();
        // Two listeners of the loop's `process` emitter.
        for name in ["process listener 1", "process listener 2"] {
            let p = l.panicking_probe(name);
            process::on(process::Warning, move |_| hold(&p));
        }
        // A worker's parent-side listeners (it runs until terminated).
        let worker = Worker::spawn(|port: ParentPort<u32, u32>| {
            port.on_message(|_| {});
        });
        let p = l.panicking_probe("worker message listener");
        let _ = worker.on_message(move |_| hold(&p));
        let p = l.panicking_probe("worker exit listener");
        worker.on_exit(move |_| hold(&p));
        let p = l.panicking_probe("worker online listener");
        worker.on_online(move || hold(&p));
        let p = l.panicking_probe("uncaught-panic handler");
        evloop::set_uncaught_panic_handler(Some(Box::new(move |_| hold(&p))));
        cancelled
    });
    let p = ledger.panicking_probe("post");
    lp.handle().post(move || hold(&p)).unwrap();
    // Ticks and microtasks stay queued when the script that queued them
    // panics (no drain then).
    let l = ledger.clone();
    let r = catch_unwind(AssertUnwindSafe(|| {
        lp.enter(move || {
            assert_eq!(cancelled.cancel(), Ok(()));
            let p = l.panicking_probe("next tick");
            next_tick(move || hold(&p));
            let p = l.probe("second next tick");
            next_tick(move || hold(&p));
            let p = l.panicking_probe("microtask");
            queue_microtask(move || hold(&p));
            panic!("main script panics with ticks queued");
        })
    }));
    assert!(r.is_err());
    let snapshot = lp.snapshot();
    assert_eq!(snapshot.next_ticks, 2);
    assert!(snapshot.microtasks >= 1, "the microtask");
    assert!(snapshot.pending >= 1, "the cancelled job's callback");
    assert_eq!(snapshot.closing, 1, "the closed timer's callback");
    common::logs::take();

    // The job must be running, not still queued (on a busy machine the
    // pool thread may not have taken it yet): a queued job is dropped
    // with the loop, and its closure with the receiver.
    started_rx.recv().expect("the job started");
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(lp)));
    assert!(dropped.is_ok(), "a panic escaped drop(EventLoop)");
    release_tx.send(()).unwrap();

    ledger.assert_all_dropped_once();
    let errors = logged_errors();
    let panicking = [
        "timer",
        "close callback",
        "immediate",
        "check callback",
        "task",
        "running job callback",
        "cancelled job callback",
        "server connection handler",
        "server error handler",
        "process listener 1",
        "process listener 2",
        "worker message listener",
        "worker exit listener",
        "worker online listener",
        "uncaught-panic handler",
        "post",
        "next tick",
        "microtask",
    ];
    for name in panicking {
        let message = Probe::panic_message(name);
        let lines: Vec<_> = errors.iter().filter(|e| e.contains(&message)).collect();
        assert_eq!(lines.len(), 1, "{name}: {errors:#?}");
    }
    assert_eq!(errors.len(), panicking.len(), "{errors:#?}");
    // Each line says what was dropped, and where it was scheduled.
    let timer = Probe::panic_message("timer");
    let line = errors.iter().find(|e| e.contains(&timer)).unwrap();
    assert!(
        line.starts_with(
            "a destructor panicked while the event loop was dropped (a timer callback \
             scheduled at tests/suite/teardown_panics.rs:"
        ),
        "{line}"
    );
}

/// What the child process prints when the panic came out of `evloop::run`
/// (the process would have aborted otherwise).
const CAME_OUT: &str = "the panic came out of evloop::run";

/// The environment variable that makes the target below run a scenario.
const SCENARIO: &str = "EVLOOP_TEST_UNWIND_SCENARIO";

/// A future that panics when polled, holding a value whose destructor
/// panics: the task's table drops it while that panic unwinds.
struct PanicsWhenPolled(#[allow(dead_code)] Probe);

impl Future for PanicsWhenPolled {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        panic!("the task's panic");
    }
}

/// The child process of the test below: with [`SCENARIO`] set to
/// `callback`, a timer's callback panics while captures that panic when
/// dropped wait in two other queues (they are dropped as the loop is, while
/// that panic unwinds out of `evloop::run`); with `task`, a task's poll
/// panics and its future's destructor panics too. Without the variable it
/// does nothing.
#[test]
fn a_loop_dropped_while_a_panic_unwinds_target() {
    let _w = common::watchdog();
    let Some(scenario) = std::env::var_os(SCENARIO) else {
        return;
    };
    let ledger = Ledger::default();
    let l = ledger.clone();
    let (expected, main): (&str, Box<dyn FnOnce()>) = match scenario.to_str() {
        Some("callback") => (
            "the callback's panic",
            Box::new(move || {
                let p = l.panicking_probe("timer");
                set_timeout(NEVER, move || hold(&p));
                let p = l.panicking_probe("task");
                spawn(async move {
                    hold(&p);
                    sleep(NEVER).await;
                })
                .detach();
                let p = l.probe("immediate");
                set_timeout(1, move || {
                    set_immediate(move || hold(&p));
                    panic!("the callback's panic");
                });
            }),
        ),
        Some("task") => (
            "the task's panic",
            Box::new(move || {
                spawn(PanicsWhenPolled(l.panicking_probe("polled future"))).detach();
                let p = l.panicking_probe("timer");
                set_timeout(NEVER, move || hold(&p));
            }),
        ),
        _ => panic!("{SCENARIO}={scenario:?}: expected callback or task"),
    };
    let r = catch_unwind(AssertUnwindSafe(|| evloop::run(main)));
    let payload = r.expect_err("the scenario panics");
    assert_eq!(common::panic_message(&*payload), expected);
    ledger.assert_all_dropped_once();
    println!("{CAME_OUT}");
}

/// Runs the target above in a child process with `scenario`: its status,
/// stdout and stderr.
fn run_scenario(scenario: &str) -> (std::process::ExitStatus, String, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "teardown_panics::a_loop_dropped_while_a_panic_unwinds_target",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(SCENARIO, scenario)
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status, stdout, stderr)
}

#[test]
fn a_loop_dropped_while_a_panic_unwinds_does_not_abort() {
    let _w = common::watchdog();
    let (status, stdout, stderr) = run_scenario("callback");
    assert!(status.success(), "{status:?}\n{stdout}\n{stderr}");
    assert!(stdout.contains(CAME_OUT), "{stdout}\n{stderr}");
    // Both destructors' panics were reported (the hook prints each).
    for name in ["timer", "task"] {
        assert!(
            stderr.contains(&Probe::panic_message(name)),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn a_task_future_whose_destructor_panics_while_its_poll_panics_does_not_abort() {
    let _w = common::watchdog();
    let (status, stdout, stderr) = run_scenario("task");
    assert!(status.success(), "{status:?}\n{stdout}\n{stderr}");
    assert!(stdout.contains(CAME_OUT), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&Probe::panic_message("polled future")),
        "{stderr}"
    );
}

//! Worker threads (Node's `worker_threads`): events and their order, exit
//! codes, termination, keeping the parent alive, the article's `runWorker`,
//! and real parallelism.

use crate::common;

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use evloop::{
    EventLoop, ParentPort, PostMessageError, RunMode, Worker, WorkerError, next_tick, run_worker,
    set_immediate, set_interval, set_timeout,
};

type Log = Rc<RefCell<Vec<String>>>;

fn new_log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(log: &Log, s: impl Into<String>) {
    log.borrow_mut().push(s.into());
}

/// Records every event of `worker` in `log`.
fn record<In: Send + 'static, Out: Send + Debug + 'static>(worker: &Worker<In, Out>, log: &Log) {
    let l = log.clone();
    worker.on_online(move || push(&l, "online"));
    let l = log.clone();
    worker.on_message(move |m| push(&l, format!("message {m:?}")));
    let l = log.clone();
    worker.on_error(move |e| push(&l, format!("error {e}")));
    let l = log.clone();
    worker.on_exit(move |code| push(&l, format!("exit {code}")));
}

#[test]
fn messages_keep_their_order_both_ways_in_a_round_trip() {
    let _w = common::watchdog();
    const N: u32 = 1000;
    let log = new_log();
    let l = log.clone();
    evloop::run(move || {
        let worker = Worker::spawn(|port: ParentPort<u32, u32>| {
            let reply = port.clone();
            let mut expected = 0;
            port.on_message(move |&n| {
                assert_eq!(n, expected, "the worker got a message out of order");
                expected += 1;
                reply.post_message(n * 10).unwrap();
                if expected == N {
                    reply.close();
                }
            });
        });
        record(&worker, &l);
        // A second listener: both get every message, `record`'s first.
        // Each message is its own callback: a tick queued by one runs
        // before the next message is delivered.
        let ll = l.clone();
        worker.on_message(move |&m| {
            let lt = ll.clone();
            next_tick(move || push(&lt, format!("tick {m}")));
        });
        // Posted before the worker's loop exists: they wait for it.
        for i in 0..N {
            worker.post_message(i).unwrap();
        }
    });
    let log = log.borrow();
    let mut expected = vec!["online".to_string()];
    for i in 0..N {
        expected.push(format!("message {}", i * 10));
        expected.push(format!("tick {}", i * 10));
    }
    expected.push("exit 0".to_string());
    assert_eq!(*log, expected);
}

#[test]
fn messages_wait_for_the_workers_first_listener() {
    let _w = common::watchdog();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    let (posted_tx, posted_rx) = mpsc::channel::<()>();
    evloop::run(move || {
        let worker = Worker::spawn(move |port: ParentPort<&'static str, String>| {
            // The three messages are in the worker loop's queue once this
            // returns: the first poll phase delivers them, with no listener.
            posted_rx.recv().unwrap();
            // The listener comes in the check phase after that poll phase.
            set_immediate(move || {
                let reply = port.clone();
                port.on_message(move |&s| {
                    reply.post_message(s.to_uppercase()).unwrap();
                    if s == "c" {
                        reply.close();
                    }
                });
            });
        });
        for s in ["a", "b", "c"] {
            worker.post_message(s).unwrap();
        }
        posted_tx.send(()).unwrap();
        worker.on_message(move |s| g.borrow_mut().push(s.clone()));
    });
    assert_eq!(*got.borrow(), ["A", "B", "C"]);
}

#[test]
fn all_messages_arrive_before_exit_when_the_worker_just_returns() {
    let _w = common::watchdog();
    let log = new_log();
    let l = log.clone();
    evloop::run(move || {
        let worker = Worker::spawn(|port: ParentPort<(), u32>| {
            for i in 0..100 {
                port.post_message(i).unwrap();
            }
        });
        record(&worker, &l);
    });
    let log = log.borrow();
    let mut expected = vec!["online".to_string()];
    expected.extend((0..100).map(|i| format!("message {i}")));
    expected.push("exit 0".to_string());
    assert_eq!(*log, expected);
}

#[test]
fn a_panic_in_the_worker_is_an_error_event_then_exit_1_and_the_parent_goes_on() {
    let _w = common::watchdog();
    let log = new_log();
    let l = log.clone();
    evloop::run(move || {
        let worker = Worker::spawn(|port: ParentPort<u32, &'static str>| {
            port.post_message("before").unwrap();
            set_timeout(5, || panic!("boom in the worker"));
            set_timeout(10_000, || {
                unreachable!("the worker's loop ends at the panic")
            });
        });
        record(&worker, &l);
        let (w, ll) = (worker.clone(), l.clone());
        worker.on_exit(move |_| {
            // The worker is gone: posting fails and hands the message back.
            assert_eq!(w.post_message(7), Err(PostMessageError(7)));
            let lt = ll.clone();
            set_timeout(5, move || push(&lt, "parent still running"));
        });
    });
    assert_eq!(
        *log.borrow(),
        [
            "online",
            "message \"before\"",
            "error the worker panicked: boom in the worker",
            "exit 1",
            "parent still running",
        ]
    );
}

#[test]
fn a_panic_in_the_workers_main_closure_is_reported_too() {
    let _w = common::watchdog();
    let errors = Rc::new(RefCell::new(Vec::new()));
    let e = errors.clone();
    let code = evloop::run_async(async move {
        let worker = Worker::spawn(|_port: ParentPort<(), ()>| {
            let n: u32 = "not a number".parse().unwrap();
            black_box(n);
        });
        worker.on_error(move |err| e.borrow_mut().push(err));
        worker.exited().await
    });
    assert_eq!(code, 1);
    let errors = errors.borrow();
    assert_eq!(errors.len(), 1);
    let WorkerError::Panicked(message) = &errors[0] else {
        panic!("expected a panic, got {:?}", errors[0]);
    };
    assert!(message.contains("InvalidDigit"), "{message}");
}

#[test]
fn an_error_with_no_listener_is_raised_on_the_parent_loop() {
    let _w = common::watchdog();
    let result = catch_unwind(AssertUnwindSafe(|| {
        evloop::run(|| {
            Worker::spawn(|_port: ParentPort<(), ()>| panic!("nobody listens"));
        })
    }));
    let payload = result.expect_err("the parent loop should have panicked");
    let message = payload
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("no on_error listener"), "{message}");
    assert!(message.contains("nobody listens"), "{message}");
}

#[test]
fn terminate_stops_a_worker_that_would_run_forever_with_exit_code_1() {
    let _w = common::watchdog();
    let log = new_log();
    let l = log.clone();
    let start = Instant::now();
    let code = evloop::run_async(async move {
        let worker = Worker::spawn(|port: ParentPort<u32, u32>| {
            // An interval and a message listener: both keep it alive.
            let mut n = 0;
            let p = port.clone();
            let _ticks = set_interval(1, move || {
                n += 1;
                let _ = p.post_message(n);
            });
            port.on_message(|_| {});
        });
        let ll = l.clone();
        worker.on_exit(move |code| push(&ll, format!("exit {code}")));
        // Let it tick a few times, then stop it.
        assert_eq!(worker.next_message().await, Some(1));
        assert_eq!(worker.next_message().await, Some(2));
        let exited = worker.terminate();
        assert!(worker.post_message(0).is_err(), "posting after terminate");
        let code = exited.await;
        assert_eq!(worker.exit_code(), Some(1));
        // Ticks posted before the stop took effect may still arrive first;
        // nothing comes after the exit.
        while worker.next_message().await.is_some() {}
        code
    });
    // run_async returned: the terminated worker no longer keeps it alive.
    assert_eq!(code, 1);
    assert_eq!(*log.borrow(), ["exit 1"]);
    assert!(start.elapsed() >= Duration::from_millis(2));
}

#[test]
fn a_cpu_bound_worker_stops_when_it_checks_is_terminating() {
    let _w = common::watchdog();
    let (code, last) = evloop::run_async(async move {
        let worker = Worker::spawn(move |port: ParentPort<(), &'static str>| {
            port.post_message("busy").unwrap();
            // A main closure that never returns to the loop on its own.
            while !port.is_terminating() {
                // sleep: the pause of a polling loop; the worker goes on
                // until it sees the flag, however long that takes.
                thread::sleep(Duration::from_millis(1));
            }
            port.post_message("stopped").unwrap();
        });
        assert_eq!(worker.next_message().await, Some("busy"));
        let code = worker.terminate().await;
        (code, worker.next_message().await)
    });
    assert_eq!(code, 1);
    // What it posted on its way out still arrived, before the exit.
    assert_eq!(last, Some("stopped"));
}

#[test]
fn exit_with_a_code_ends_the_worker_with_that_code() {
    let _w = common::watchdog();
    let log = new_log();
    let l = log.clone();
    evloop::run(move || {
        // From the main closure: nothing after it runs.
        let worker = Worker::spawn(|port: ParentPort<(), &'static str>| {
            port.post_message("a").unwrap();
            port.exit(3);
        });
        record(&worker, &l);
        // From a callback of the worker's loop: the loop ends there.
        let worker = Worker::spawn(|port: ParentPort<(), &'static str>| {
            let p = port.clone();
            set_timeout(5, move || {
                p.post_message("b").unwrap();
                p.exit(4);
            });
            set_timeout(10_000, || unreachable!("exit(4) ends the loop"));
        });
        let ll = l.clone();
        worker.on_message(move |m| push(&ll, format!("second {m}")));
        let ll = l.clone();
        worker.on_exit(move |code| push(&ll, format!("second exit {code}")));
    });
    let log = log.borrow();
    let first: Vec<_> = log.iter().filter(|s| !s.starts_with("second")).collect();
    let second: Vec<_> = log.iter().filter(|s| s.starts_with("second")).collect();
    assert_eq!(first, ["online", "message \"a\"", "exit 3"]);
    assert_eq!(second, ["second b", "second exit 4"]);

    // From inside an async task of the worker's loop.
    let code = evloop::run_async(async {
        let worker = Worker::spawn(|port: ParentPort<(), ()>| {
            evloop::spawn(async move {
                evloop::sleep(5).await;
                port.exit(5);
            })
            .detach();
        });
        worker.exited().await
    });
    assert_eq!(code, 5);
}

#[test]
fn an_unrefd_worker_does_not_keep_the_parent_alive() {
    let _w = common::watchdog();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (report_tx, report_rx) = mpsc::channel::<(bool, bool)>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let lp = EventLoop::new().unwrap();
    lp.enter(move || {
        let worker = Worker::spawn(move |port: ParentPort<(), ()>| {
            started_tx.send(()).unwrap();
            // Blocks until the parent's loop has been dropped.
            release_rx.recv().unwrap();
            // Posting fails, and the worker is told to wind down.
            let failed = port.post_message(()).is_err();
            report_tx.send((failed, port.is_terminating())).unwrap();
        });
        assert!(worker.has_ref());
        worker.unref();
        assert!(!worker.has_ref());
        // Its body has started (dropping the parent loop before that would
        // terminate the worker before its body runs, as in Node).
        started_rx.recv().unwrap();
    });
    // The worker is blocked in its body. One turn delivers its `online`
    // (posted before its body started); then nothing keeps the loop alive.
    assert!(
        !lp.run(RunMode::NoWait),
        "an unref'd worker keeps the parent loop alive"
    );
    assert!(!lp.is_alive());
    drop(lp);
    release_tx.send(()).unwrap();
    let (failed, terminating) = report_rx.recv().unwrap();
    assert!(failed, "posting to a dropped parent loop should fail");
    assert!(terminating);
}

#[test]
fn a_referenced_worker_keeps_the_parent_alive_until_it_exits() {
    let _w = common::watchdog();
    for unref_then_ref in [false, true] {
        let exited = Rc::new(Cell::new(None));
        let e = exited.clone();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let lp = EventLoop::new().unwrap();
        lp.enter(move || {
            let worker = Worker::spawn(move |_port: ParentPort<(), ()>| {
                // Runs until the test lets it go.
                release_rx.recv().unwrap();
            });
            if unref_then_ref {
                worker.unref();
                worker.ref_();
            }
            assert!(worker.has_ref());
            worker.on_exit(move |code| e.set(Some(code)));
        });
        // The worker is still in its body: it alone keeps the loop alive.
        for _ in 0..3 {
            assert!(
                lp.run(RunMode::NoWait),
                "the loop ended under a running worker (unref_then_ref: {unref_then_ref})"
            );
        }
        assert_eq!(exited.get(), None);
        release_tx.send(()).unwrap();
        // Waits for the exit event, then ends.
        assert!(!lp.run(RunMode::Default));
        assert_eq!(exited.get(), Some(0), "unref_then_ref: {unref_then_ref}");
    }
}

#[test]
fn an_unrefd_workers_messages_arrive_while_the_parent_runs() {
    let _w = common::watchdog();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    evloop::run(move || {
        let worker = Worker::spawn(move |port: ParentPort<(), &'static str>| {
            port.post_message("hello").unwrap();
            // Still running when the parent's loop ends.
            let _ = release_rx.recv();
        });
        worker.unref();
        // Something else keeps the parent alive until the message comes: a
        // referenced handle, which (unlike a timer) never runs out.
        let keep = RefCell::new(Some(evloop::handle()));
        worker.on_message(move |&m| {
            g.borrow_mut().push(m);
            keep.borrow_mut().take();
        });
    });
    let _ = release_tx.send(());
    assert_eq!(*got.borrow(), ["hello"]);
}

#[test]
fn next_message_yields_every_message_then_none_at_exit() {
    let _w = common::watchdog();
    let (got, code) = evloop::run_async(async {
        let worker = Worker::spawn(|port: ParentPort<(), u32>| {
            for i in 0..5 {
                port.post_message(i).unwrap();
            }
            let p = port.clone();
            set_timeout(10, move || p.post_message(99).unwrap());
        });
        let mut got = Vec::new();
        while let Some(m) = worker.next_message().await {
            got.push(m);
        }
        (got, worker.exited().await)
    });
    assert_eq!(got, [0, 1, 2, 3, 4, 99]);
    assert_eq!(code, 0);
}

#[test]
fn a_worker_can_await_and_spawn_its_own_worker() {
    let _w = common::watchdog();
    let result = evloop::run_async(async {
        run_worker(5u64, |n, port: ParentPort<(), u64>| {
            // The worker's closure is its loop's main script: it can spawn
            // tasks, await timers, and start workers of its own.
            evloop::spawn(async move {
                let square = run_worker(n, |n, p| p.post_message(n * n).unwrap()).await;
                evloop::sleep(5).await;
                port.post_message(square.unwrap() + 1).unwrap();
            })
            .detach();
        })
        .await
    });
    assert_eq!(result, Ok(26));
}

/// The article's `doHeavyComputation`, scaled down.
fn heavy_computation(value: u64) -> f64 {
    (0..value * 10_000).map(|i| (i as f64).sqrt()).sum()
}

#[test]
fn run_worker_ports_the_articles_promise_all_of_four_workers() {
    let _w = common::watchdog();
    #[derive(Debug, PartialEq)]
    struct Output {
        task: &'static str,
        result: f64,
    }
    let results = evloop::run_async(async {
        let tasks: Vec<_> = [("task1", 10), ("task2", 20), ("task3", 30), ("task4", 40)]
            .into_iter()
            .map(|data| {
                run_worker(data, |(task, value), port| {
                    let result = heavy_computation(value);
                    port.post_message(Output { task, result }).unwrap();
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await);
        }
        results
    });
    let tasks: Vec<_> = results.iter().map(|r| r.as_ref().unwrap().task).collect();
    assert_eq!(tasks, ["task1", "task2", "task3", "task4"]);
    assert_eq!(results[1].as_ref().unwrap().result, heavy_computation(20));

    // And the rejections: a panic, an exit code, a clean exit with nothing.
    let errors = evloop::run_async(async {
        let panics = run_worker((), |(), _port: ParentPort<(), u32>| panic!("bad input"));
        let exits = run_worker((), |(), port: ParentPort<(), u32>| port.exit(2));
        let silent = run_worker((), |(), _port: ParentPort<(), u32>| {});
        [panics.await, exits.await, silent.await]
    });
    assert_eq!(
        errors,
        [
            Err(WorkerError::Panicked("bad input".into())),
            Err(WorkerError::Exited(2)),
            Err(WorkerError::Exited(0)),
        ]
    );
}

/// Counts primes below `n` by trial division: CPU-bound, no allocation.
fn count_primes(n: u64) -> u64 {
    let mut count = 0;
    let mut i = 2;
    while i < n {
        let mut d = 2;
        let mut prime = true;
        while d * d <= i {
            if i % d == 0 {
                prime = false;
                break;
            }
            d += 1;
        }
        count += prime as u64;
        i += 1;
    }
    count
}

/// What the parallel test gives its four workers to count below (distinct,
/// so that each worker's count is checked against its own input).
const PRIME_LIMITS: [u64; 4] = [40_000, 50_000, 60_000, 70_000];

#[test]
fn four_workers_compute_in_parallel() {
    let _w = common::watchdog();
    // Parallel, on any machine however loaded: the four computations are in
    // flight at the same time, each on its own thread. Each worker counts
    // between two barriers of four: none starts counting before all four
    // are running, and none posts its count before all four have counted.
    // So while any of them counts, all four are inside their bodies (a
    // wall-clock speed-up would need idle cores). Workers run one after
    // another, or on fewer threads, would never pass the first barrier: the
    // test would hang, and its watchdog fail it.
    let started = Arc::new(Barrier::new(PRIME_LIMITS.len()));
    let counted = Arc::new(Barrier::new(PRIME_LIMITS.len()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    evloop::run(move || {
        for (i, n) in PRIME_LIMITS.into_iter().enumerate() {
            let (started, counted) = (started.clone(), counted.clone());
            let worker = Worker::spawn(move |port: ParentPort<(), (usize, Option<u64>)>| {
                port.post_message((i, None)).unwrap();
                started.wait();
                let count = count_primes(black_box(n));
                counted.wait();
                port.post_message((i, Some(count))).unwrap();
            });
            let l = l.clone();
            worker.on_message(move |&m| l.borrow_mut().push(m));
        }
    });
    let log = log.borrow();
    assert_eq!(log.len(), 2 * PRIME_LIMITS.len(), "{log:?}");
    // Every worker said it started before any count came (each count was
    // posted after all four had started), and each count is right.
    let (starts, counts) = log.split_at(PRIME_LIMITS.len());
    let mut who: Vec<usize> = starts
        .iter()
        .map(|&(i, count)| {
            assert_eq!(
                count, None,
                "a count came before every worker started: {log:?}"
            );
            i
        })
        .collect();
    who.sort();
    assert_eq!(who, [0, 1, 2, 3]);
    let mut counts: Vec<(usize, Option<u64>)> = counts.to_vec();
    counts.sort();
    let expected: Vec<(usize, Option<u64>)> = PRIME_LIMITS
        .iter()
        .enumerate()
        .map(|(i, &n)| (i, Some(count_primes(n))))
        .collect();
    assert_eq!(counts, expected);
}

#[test]
#[should_panic(expected = "Worker::spawn() called with no event loop")]
fn spawning_a_worker_outside_a_loop_panics() {
    let _w = common::watchdog();
    let _ = Worker::spawn(|_port: ParentPort<(), ()>| {});
}

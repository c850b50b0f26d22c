//! `worker_threads` on `evloop::Worker`: the Node.js scenarios of
//! `tests/node/worker/` ported (the main thread's lines only; a worker's own
//! output would race with its parent's), and the rules of its message
//! listeners. The thread and ordering tests of workers are in
//! tests/suite/worker.rs.
//!
//! The conventions of tests/node/emitter.rs hold: `console.log(x)` is
//! `say(x)`; `new Worker(__filename, { workerData })` with an `isMainThread`
//! branch is `Worker::spawn` with the worker's branch as its closure.

use std::cell::RefCell;
use std::rc::Rc;

use crate::common;
use crate::common::{check, node_expected, say, take_lines};

use evloop::{ParentPort, Worker, WorkerError, next_tick};

/// What Node's `err.message` is for a worker that threw.
fn message(e: &WorkerError) -> String {
    match e {
        WorkerError::Panicked(m) => m.clone(),
        other => other.to_string(),
    }
}

#[test]
fn message_listeners() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("worker", "message_listeners");
    check(name, out, || {
        let w = Worker::spawn(|port: ParentPort<&'static str, &'static str>| {
            let reply = port.clone();
            // Only a once-listener: after it the worker's loop may end.
            port.once_message(move |_| {
                for m in ["a", "b", "c"] {
                    reply.post_message(m).unwrap();
                }
            });
        });
        w.on_online(|| say("online A"));
        w.on_online(|| say("online B")); // `once`: the event comes once
        w.on_message(|&m| {
            say(format!("first listener: {m}"));
            next_tick(move || say(format!("tick after {m}")));
        });
        w.once_message(|m| say(format!("once listener: {m}")));
        let me = w.clone();
        w.on_message(move |&m| {
            say(format!("second listener: {m}"));
            if m == "b" {
                me.on_message(|late| say(format!("late listener: {late}")));
            }
        });
        say(format!("message listeners {}", w.message_listener_count()));
        w.on_exit(|code| say(format!("exit A {code}")));
        let me = w.clone();
        w.on_exit(move |code| {
            say(format!(
                "exit B {code}, message listeners {}",
                me.message_listener_count()
            ));
            let v: Worker<(), ()> = Worker::spawn(|_port| panic!("boom"));
            v.on_error(|e| say(format!("error A {}", message(&e))));
            v.on_error(|e| say(format!("error B {}", message(&e))));
            v.on_exit(|code| say(format!("second worker exit {code}")));
        });
        w.post_message("ping").unwrap();
    });
}

#[test]
fn off_message_removes_one_listener_and_messages_then_wait_for_next_message() {
    let _w = common::watchdog();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    let rest = evloop::run_async(async move {
        let w = Worker::spawn(|port: ParentPort<(), u32>| {
            let reply = port.clone();
            port.on_message(move |()| {
                for i in 1..=3 {
                    reply.post_message(i).unwrap();
                }
                reply.close();
            });
        });
        let (g1, g2) = (g.clone(), g.clone());
        let first = w.on_message(move |&n| g1.borrow_mut().push(format!("first {n}")));
        let me = w.clone();
        let second = Rc::new(RefCell::new(None));
        let id = second.clone();
        *second.borrow_mut() = Some(w.on_message(move |&n| {
            g2.borrow_mut().push(format!("second {n}"));
            if n == 1 {
                // Both go: message 2 and 3 wait for next_message.
                assert!(me.off_message(first));
                assert!(me.off_message(id.borrow().expect("registered")));
                assert!(!me.off_message(first), "already removed");
            }
        }));
        assert_eq!(w.message_listener_count(), 2);
        w.post_message(()).unwrap();
        let mut rest = Vec::new();
        while let Some(n) = w.next_message().await {
            rest.push(n);
        }
        assert_eq!(w.message_listener_count(), 0);
        rest
    });
    assert_eq!(*got.borrow(), ["first 1", "second 1"]);
    assert_eq!(rest, [2, 3]);
}

#[test]
fn a_port_with_only_a_once_listener_lets_the_worker_end_after_one_message() {
    let _w = common::watchdog();
    take_lines();
    evloop::run(|| {
        let w = Worker::spawn(|port: ParentPort<u32, u32>| {
            let reply = port.clone();
            port.once_message(move |&n| reply.post_message(n * 2).unwrap());
        });
        w.on_message(|n| say(format!("got {n}")));
        w.on_exit(|code| say(format!("exit {code}")));
        w.post_message(21).unwrap();
    });
    assert_eq!(take_lines(), ["got 42", "exit 0"]);
}

/// Every scenario in `tests/node/worker` has a test above.
#[test]
fn every_node_scenario_is_ported() {
    let _w = common::watchdog();
    common::check_every_scenario_ported("worker", include_str!("worker.rs"));
}

/// When `node` is on PATH, re-runs every `tests/node/worker/*.js` and checks
/// its stdout still equals its `.out`.
#[test]
fn node_outputs_are_current() {
    let _w = common::watchdog();
    common::check_node_outputs("worker", 1);
}

//! Signals (`evloop::process::on_signal`): the Node.js scenarios of
//! `tests/node/signal/` ported. Process-wide behaviour (other threads'
//! loops, the default action coming back, SIGPIPE) is in `tests/signals.rs`,
//! a binary of its own.
//!
//! Conventions as in `tests/node/node_order.rs`: `console.log(x)` is
//! `say(x)`; `process.on('SIGUSR2', f)` is
//! `process::on_signal(Signal::Usr2, f)`, whose handle removes the listener
//! when dropped (`process.off`); `process.kill(process.pid, 'SIGUSR2')` is
//! `libc::raise(SIGUSR2)`, which runs the handler on the calling thread
//! before it returns, as Node's main thread does with its own `kill` (in a
//! test binary `kill(getpid())` may land on another test's thread). Only
//! these tests use SIGUSR2 in this binary; each raises it only while it
//! listens, and holds [`one_at_a_time`] throughout, since a signal reaches
//! every loop of the process that listens for it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};

use crate::common;

use crate::common::{check, node_expected, say};

use evloop::process::{self, Signal, SignalListener};
use evloop::{next_tick, queue_microtask, set_immediate, set_timeout};

/// `process.kill(process.pid, 'SIGUSR2')` (see the module's comment).
fn raise_usr2() {
    // SAFETY: `raise` only sends a signal to this thread; every caller has
    // a SIGUSR2 listener, so the handler catches it.
    assert_eq!(unsafe { libc::raise(libc::SIGUSR2) }, 0);
}

/// Held by each port while it runs (see the module's comment).
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SIGUSR2_TESTS: Mutex<()> = Mutex::new(());
    SIGUSR2_TESTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The script's listeners, so that one may remove them all.
type Listeners = Rc<RefCell<Vec<SignalListener>>>;

#[test]
fn poll_phase_order() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    let (name, out) = node_expected!("signal", "poll_phase_order");
    check(name, out, || {
        let listeners: Listeners = Rc::default();
        let first = process::on_signal(Signal::Usr2, |sig| {
            say(format!("first listener {sig}"));
            next_tick(|| say("tick from first listener"));
            queue_microtask(|| say("microtask from first listener"));
            set_immediate(|| say("immediate from listener"));
            set_timeout(0, || say("timeout from listener"));
        })
        .unwrap();
        let l = listeners.clone();
        let second = process::on_signal(Signal::Usr2, move |_| {
            say("second listener");
            // process.removeAllListeners('SIGUSR2')
            l.borrow_mut().clear();
        })
        .unwrap();
        listeners.borrow_mut().extend([first, second]);
        set_immediate(|| say("immediate queued first"));
        raise_usr2();
        next_tick(|| say("tick from main"));
        say("main done");
    });
}

#[test]
fn caught_twice_drain_between() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    let (name, out) = node_expected!("signal", "caught_twice_drain_between");
    check(name, out, || {
        let listener: Rc<RefCell<Option<SignalListener>>> = Rc::default();
        let n = Rc::new(Cell::new(0));
        let slot = listener.clone();
        let on = process::on_signal(Signal::Usr2, move |_| {
            n.set(n.get() + 1);
            let k = n.get();
            say(format!("listener {k}"));
            next_tick(move || say(format!("tick {k}")));
            queue_microtask(move || say(format!("microtask {k}")));
            if k == 2 {
                slot.borrow_mut().take(); // process.off
            }
        })
        .unwrap();
        *listener.borrow_mut() = Some(on);
        set_immediate(|| say("immediate"));
        raise_usr2();
        raise_usr2();
        say("main done");
    });
}

#[test]
fn removed_before_poll() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    let (name, out) = node_expected!("signal", "removed_before_poll");
    check(name, out, || {
        let listener = process::on_signal(Signal::Usr2, |_| say("listener (never)")).unwrap();
        raise_usr2();
        listener.remove(); // process.off
        set_immediate(|| {
            say("immediate");
            set_timeout(10, || say("timeout 10"));
        });
        say("main done");
    });
}

#[test]
fn every_node_scenario_is_ported() {
    let _w = common::watchdog();
    common::check_every_scenario_ported("signal", include_str!("signal.rs"));
}

#[test]
fn node_outputs_are_current() {
    let _w = common::watchdog();
    common::check_node_outputs("signal", 3);
}

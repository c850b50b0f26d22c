//! Seeded runs, continued (issue 22): what lands late. A poll that waits
//! for a timer may wake late enough that later timers are due too
//! (`ChoiceKind::PollLate`); readiness and other threads' posts may be
//! handled in a later poll phase than the first that could have
//! (`ArrivalDelay`), even after a timer; and different senders' arrivals
//! come in any order (`ArrivalOrder`). Node's own orders for the timer
//! case are checked in tests/node/explore.rs.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use crate::common;
use crate::common::programs::late_timers;

use evloop::{ChoiceKind, EventLoop, ExploreOptions, FdWatcher, Recorder, explore};

fn set(orders: &[&str]) -> HashSet<String> {
    orders.iter().map(|s| s.to_string()).collect()
}

fn orders(found: &evloop::Exploration) -> HashSet<String> {
    found
        .outcomes()
        .iter()
        .map(|o| o.lines().join(" "))
        .collect()
}

/// On time, each timer's immediate runs before the next timer. A poll
/// that wakes at 2 ms runs A and B in one timers phase, so both come
/// before A's immediate; one that wakes at 3 ms runs all three: Node on a
/// busy machine prints any of these. (B late alone gives the fourth.)
/// Seed 0 is the machine that is never late.
#[test]
fn a_late_poll_runs_later_timers_in_the_same_pass() {
    let _w = common::watchdog();
    let found = explore(ExploreOptions::default(), late_timers);
    assert!(found.is_complete(), "{found}");
    let expected = set(&[
        "A iA B iB C iC",
        "A B iA iB C iC",
        "A iA B C iB iC",
        "A B C iA iB iC",
    ]);
    assert_eq!(orders(&found), expected, "{found}");
    assert_eq!(found.outcomes()[0].lines().join(" "), "A iA B iB C iC");
    let all_in_one = found
        .outcomes()
        .iter()
        .find(|o| o.lines().join(" ") == "A B C iA iB iC")
        .unwrap();
    assert!(
        all_in_one
            .choices()
            .iter()
            .any(|c| c.kind == ChoiceKind::PollLate && c.picked == 2),
        "{all_in_one:?}"
    );
}

/// A late poll never wakes early, and reaches at most two deadlines past
/// the one it waits for: with four timers the first poll cannot run all
/// four in one pass (the first timers phase may run A: `FirstTimerDue`).
#[test]
fn a_late_poll_reaches_at_most_two_further_deadlines() {
    let _w = common::watchdog();
    let found = explore(ExploreOptions::default(), |out| {
        for (name, ms) in [("A", 1), ("B", 2), ("C", 3), ("D", 4)] {
            let out = out.clone();
            evloop::set_timeout(ms, move || {
                out.line(format!("{name}@{}", evloop::now()));
                let out = out.clone();
                evloop::set_immediate(move || out.line("i"));
            });
        }
    });
    assert!(found.is_complete(), "{found}");
    for o in found.outcomes() {
        let lines = o.lines();
        // Each timer runs at or after its deadline.
        for (i, name) in ["A", "B", "C", "D"].into_iter().enumerate() {
            let at: u64 = lines
                .iter()
                .find_map(|l| l.strip_prefix(&format!("{name}@")))
                .unwrap()
                .parse()
                .unwrap();
            assert!(at > i as u64, "{name} early: {o:?}");
        }
        assert_ne!(lines[3], "D@4", "four timers in one pass: {o:?}");
    }
}

/// A socket pair whose far end holds `data`, watched for readability:
/// the callback reads and records it, then closes the watcher.
fn watch_pair(out: &Recorder, name: &'static str, data: &[u8]) -> FdWatcher<UnixStream> {
    let (near, mut far) = UnixStream::pair().unwrap();
    near.set_nonblocking(true).unwrap();
    // Written before the loop polls: the data is there at the first poll,
    // and only the seed decides when the loop handles it (a writer left to
    // run free would add its own timing to the choices). It models data a
    // peer sends at a time the program does not know.
    far.write_all(data).unwrap();
    std::mem::forget(far);
    let w = FdWatcher::new(near).unwrap();
    let (out, watcher) = (out.clone(), w.clone());
    w.on_readable(move || {
        let mut buf = [0u8; 16];
        let n = watcher.with_io(|s| (&*s).read(&mut buf).unwrap()).unwrap();
        out.line(format!("{name}:{}", String::from_utf8_lossy(&buf[..n])));
        watcher.close();
    });
    w
}

/// Data that has arrived is handled in the first poll, or (held by
/// `ArrivalDelay`, as data that lands later) after the immediate, or
/// after a 5 ms timer too: a poll that holds it and has nothing else to do
/// lets the clock reach the timer. Each is an order Node prints for data
/// that lands before, between or after those. Held at most twice, the
/// data is never handled after a second timer's pass.
#[test]
fn readiness_lands_before_or_after_an_immediate_and_a_timer() {
    let _w = common::watchdog();
    let found = explore(ExploreOptions::default(), |out| {
        let _w = watch_pair(out, "data", b"x");
        let (a, b) = (out.clone(), out.clone());
        evloop::set_immediate(move || a.line("immediate"));
        evloop::set_timeout(5, move || b.line("timeout"));
    });
    assert!(found.is_complete(), "{found}");
    let expected = set(&[
        "data:x immediate timeout",
        "immediate data:x timeout",
        "immediate timeout data:x",
    ]);
    assert_eq!(orders(&found), expected, "{found}");
    assert_eq!(found.outcomes()[0].seed(), Some(0));
    assert_eq!(
        found.outcomes()[0].lines().join(" "),
        "data:x immediate timeout"
    );
}

/// Two sources ready in the same poll: the kernel's order (seed 0) or the
/// other (`ArrivalOrder`), as when two peers send at about the same time.
#[test]
fn two_sources_ready_in_one_poll_come_in_either_order() {
    let _w = common::watchdog();
    let found = explore(ExploreOptions::default(), |out| {
        let _a = watch_pair(out, "a", b"1");
        let _b = watch_pair(out, "b", b"2");
    });
    assert!(found.is_complete(), "{found}");
    let expected = set(&["a:1 b:2", "b:2 a:1"]);
    assert_eq!(orders(&found), expected, "{found}");
    let swapped = found
        .outcomes()
        .iter()
        .find(|o| o.lines()[0] == "b:2")
        .unwrap();
    assert!(
        swapped
            .choices()
            .iter()
            .any(|c| c.kind == ChoiceKind::ArrivalOrder && c.picked == 1),
        "{swapped:?}"
    );
    // The seed replays it.
    let lp = EventLoop::builder()
        .seed(swapped.seed().unwrap())
        .build()
        .unwrap();
    let out = Recorder::default();
    let o = out.clone();
    lp.run_main(move || {
        let _a = watch_pair(&o, "a", b"1");
        let _b = watch_pair(&o, "b", b"2");
    });
    assert_eq!(out.lines(), swapped.lines());
}

/// Held readiness of a source nothing keeps alive does not keep the loop
/// alive either: an unreferenced watcher's data held past the last timer
/// is never handled, as when it lands after Node's loop ended. (When the
/// timer runs in the first timers phase, `uv_run` still makes the one
/// iteration it had decided on, whose poll may handle the data.)
#[test]
fn held_readiness_of_an_unreferenced_source_does_not_keep_the_loop_alive() {
    let _w = common::watchdog();
    let found = explore(ExploreOptions::default(), |out| {
        let w = watch_pair(out, "data", b"x");
        w.unref();
        let b = out.clone();
        evloop::set_timeout(1, move || b.line("timeout"));
    });
    assert!(found.is_complete(), "{found}");
    let expected = set(&["data:x timeout", "timeout data:x", "timeout"]);
    assert_eq!(orders(&found), expected, "{found}");
}

//! Embedding: an outer `mio::Poll` (standing in for a GUI toolkit's or
//! another runtime's main loop) drives an `EventLoop` through its backend fd,
//! `backend_timeout()` and `run(RunMode::NoWait)`, as Electron does with
//! `uv_backend_fd` / `uv_backend_timeout`.

use std::cell::RefCell;
use std::io;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common;

use evloop::{EventLoop, RunMode, next_tick, queue_microtask, set_immediate, set_timeout};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

thread_local! {
    static LOG: RefCell<Vec<(String, Duration)>> = const { RefCell::new(Vec::new()) };
}

fn log(start: Instant, s: impl Into<String>) {
    let s = s.into();
    LOG.with(|l| l.borrow_mut().push((s, start.elapsed())));
}

fn take_log() -> Vec<(String, Duration)> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const LOOP_TOKEN: Token = Token(7);

/// The host: a mio poll watching the loop's backend fd.
struct Host {
    poll: Poll,
    events: Events,
    /// Outer poll calls made so far.
    polls: usize,
    /// Outer polls that returned with the backend fd readable.
    readable: usize,
}

impl Host {
    fn new(lp: &EventLoop) -> Host {
        let poll = Poll::new().unwrap();
        let fd = lp.backend_fd();
        poll.registry()
            .register(&mut SourceFd(&fd), LOOP_TOKEN, Interest::READABLE)
            .unwrap();
        Host {
            poll,
            events: Events::with_capacity(16),
            polls: 0,
            readable: 0,
        }
    }

    /// One turn of the host's loop: sleep until the loop has work, then let
    /// it run without blocking.
    fn turn(&mut self, lp: &EventLoop) {
        let timeout = lp.backend_timeout();
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("outer poll failed: {e}"),
        }
        self.polls += 1;
        if self.events.iter().any(|e| e.token() == LOOP_TOKEN) {
            self.readable += 1;
        }
        lp.run(RunMode::NoWait);
    }

    /// Drives the loop until nothing keeps it alive.
    fn drive(&mut self, lp: &EventLoop) {
        while lp.is_alive() {
            self.turn(lp);
            assert!(
                self.polls < 10_000,
                "busy loop: {} outer polls so far",
                self.polls
            );
        }
    }
}

/// The thread posts only once an immediate tells it to: after the check
/// phase of that run, so the loop does not poll again before the host does,
/// and the post can only reach the loop through the host's poll of the
/// backend fd (already readable, or made readable while the host sleeps).
#[test]
fn outer_poll_drives_timers_immediates_and_posts() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let mut host = Host::new(&lp);
    let start = Instant::now();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let poster = lp.enter(move || {
        set_timeout(5, move || log(start, "timer 5"));
        set_timeout(10, move || {
            log(start, "timer 10");
            set_immediate(move || {
                log(start, "immediate from timer 10");
                ready_tx.send(()).unwrap();
            });
        });
        set_immediate(move || log(start, "immediate"));
        next_tick(move || log(start, "tick (drained by enter)"));
        let h = evloop::handle();
        thread::spawn(move || {
            ready_rx.recv().unwrap();
            h.post(move || {
                log(start, "posted");
                // Callbacks queued by a posted closure run too.
                queue_microtask(move || log(start, "posted:microtask"));
                set_immediate(move || log(start, "posted:immediate"));
                set_timeout(15, move || log(start, "timer 15 from the post"));
            })
            .unwrap();
            // The handle is dropped here; the loop may then finish.
        })
    });
    // enter drained the tick before returning.
    assert_eq!(take_log().len(), 1);
    host.drive(&lp);
    poster.join().unwrap();

    let out = take_log();
    let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    // The main script's immediate runs in the first check phase: before the
    // timers if they are not yet due then (a quiet machine), after them if
    // they are (valgrind); always before the immediate the 10 ms timer
    // queues, which waits behind it in the same queue.
    let pos = |name: &str| names.iter().position(|n| *n == name).unwrap();
    assert!(
        pos("immediate") < pos("immediate from timer 10"),
        "{names:?}"
    );
    let names: Vec<&str> = names.into_iter().filter(|n| *n != "immediate").collect();
    assert_eq!(
        names,
        [
            "timer 5",
            "timer 10",
            "immediate from timer 10",
            "posted",
            "posted:microtask",
            "posted:immediate",
            "timer 15 from the post"
        ]
    );
    let at = |name: &str| out.iter().find(|(n, _)| n == name).unwrap().1;
    assert!(at("timer 5") >= ms(5), "{out:?}");
    assert!(at("timer 10") >= ms(10), "{out:?}");
    assert!(
        at("timer 15 from the post") >= at("posted") + ms(14),
        "{out:?}"
    );
    assert!(
        host.polls < 200,
        "{} outer polls for a ~25 ms program: the host is busy-looping",
        host.polls
    );
    assert!(host.readable >= 1, "the post made the backend fd readable");
    assert!(!lp.is_alive());
}

#[test]
fn host_sleeps_until_a_post_when_no_timer_is_pending() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let mut host = Host::new(&lp);
    let handle = lp.handle();
    assert!(lp.is_alive());
    assert_eq!(
        lp.backend_timeout(),
        None,
        "only a cross-thread handle is pending: sleep until the fd is readable"
    );
    let start = Instant::now();
    let poster = thread::spawn(move || {
        // sleep: the host waits for the post however late it comes; only
        // lower bounds on the times are checked.
        thread::sleep(ms(30));
        handle.post(move || log(start, "posted")).unwrap();
        // sleep: as above, for the wake-up that the handle's drop causes.
        thread::sleep(ms(30));
        // Dropping the last handle also wakes the host, so it sees the loop
        // is no longer alive.
        drop(handle);
    });
    host.drive(&lp);
    poster.join().unwrap();
    let out = take_log();
    assert_eq!(out.len(), 1);
    assert!(out[0].1 >= ms(30));
    assert!(start.elapsed() >= ms(60));
    assert!(
        host.polls <= 10,
        "{} outer polls while waiting for two wake-ups",
        host.polls
    );
}

#[test]
fn backend_timeout_reports_the_time_to_the_next_timer() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    assert_eq!(
        lp.backend_timeout(),
        None,
        "nothing pending: no deadline (libuv says 0; a host would spin on it)"
    );
    let t = lp.enter(|| set_timeout(10_000, || {}));
    let timeout = lp.backend_timeout().expect("a timer is pending");
    assert!(timeout <= ms(10_000), "{timeout:?}");
    assert!(
        timeout >= ms(9_900),
        "backend_timeout() with a lone 10 s timer pending is {timeout:?}: the host \
         wakes up long before any work is due"
    );
    // A pending immediate: work is due now.
    let i = lp.enter(|| set_immediate(|| {}));
    assert_eq!(lp.backend_timeout(), Some(Duration::ZERO));
    lp.enter(|| {
        i.clear();
        t.clear();
    });
    assert!(!lp.is_alive());
    assert_eq!(lp.backend_timeout(), None);
}

/// Issue 21: a host that goes on after evloop's work is done, following
/// `backend_timeout()` beside a deadline of its own, sleeps until that
/// deadline. (`Some(ZERO)` there made such a host spin: 1.3 million turns
/// in 100 ms.)
#[test]
fn a_host_that_outlives_the_loops_work_sleeps_on_its_own_deadline() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let mut host = Host::new(&lp);
    let start = Instant::now();
    lp.enter(|| set_timeout(5, move || log(start, "timer 5")));
    host.drive(&lp);
    assert_eq!(take_log().len(), 1);
    assert!(!lp.is_alive());
    // The host's own work: 100 ms more of it, with evloop idle.
    let until = Instant::now() + ms(100);
    let mut turns = 0;
    while Instant::now() < until {
        let own = until.saturating_duration_since(Instant::now());
        let timeout = lp.backend_timeout().map_or(own, |t| t.min(own));
        match host.poll.poll(&mut host.events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("outer poll failed: {e}"),
        }
        lp.run(RunMode::NoWait);
        turns += 1;
        assert!(turns < 1000, "the host spins with evloop idle");
    }
    assert_eq!(lp.backend_timeout(), None);
    // One sleep until the deadline, give or take a wake-up that comes a
    // little early (the poll rounds to milliseconds) or a signal.
    assert!(turns <= 10, "{turns} host turns in 100 ms with evloop idle");
    // New work makes a deadline again.
    lp.enter(|| set_timeout(50, || {}).unref());
    assert_eq!(
        lp.backend_timeout(),
        None,
        "unreferenced: run would not fire it"
    );
    let t = lp.enter(|| set_timeout(50, || {}));
    assert!(lp.backend_timeout().is_some_and(|d| d <= ms(50)));
    lp.enter(|| t.clear());
}

#[test]
fn host_wakes_are_bounded_by_timer_count() {
    // Timers spread over 200 ms, crossing several 64 ms boundaries: the host
    // should wake about once per distinct deadline, not spin.
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let mut host = Host::new(&lp);
    let start = Instant::now();
    lp.enter(|| {
        for d in [3u64, 50, 70, 100, 130, 140, 190, 200] {
            set_timeout(d, move || {
                assert!(start.elapsed() + ms(1) >= ms(d));
                log(start, format!("{d}"));
            });
        }
    });
    host.drive(&lp);
    let names: Vec<String> = take_log().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["3", "50", "70", "100", "130", "140", "190", "200"]);
    assert!(
        host.polls <= 40,
        "{} outer polls for 8 timers over 200 ms",
        host.polls
    );
}

#[test]
fn enter_returns_the_result_and_drains_ticks_and_microtasks() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let start = Instant::now();
    let r = lp.enter(move || {
        queue_microtask(move || log(start, "microtask"));
        next_tick(move || log(start, "tick"));
        log(start, "sync");
        42
    });
    assert_eq!(r, 42);
    let names: Vec<String> = take_log().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["sync", "tick", "microtask"]);
    assert!(!lp.is_alive());
    // After enter returns, the loop is no longer current.
    assert!(std::panic::catch_unwind(evloop::now).is_err());
}

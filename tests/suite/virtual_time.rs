//! Virtual time: `EventLoop::builder().virtual_time(true)` jumps straight to
//! the next timer instead of sleeping, with deterministic timestamps, and
//! keeps every ordering rule of real time.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common;
use crate::common::virtual_loop;

use evloop::{
    EventLoop, RunMode, TIMEOUT_MAX, Timer, clear_interval, next_tick, queue_microtask,
    set_immediate, set_interval, set_timeout,
};

type Events = Rc<RefCell<Vec<(String, u64)>>>;

/// Records an event with the loop time (relative to `t0`) at which it ran.
fn record(events: &Events, t0: u64, name: impl Into<String>) {
    let now = evloop::now();
    events.borrow_mut().push((name.into(), now - t0));
}

/// The delays of the program: the real ones, or the same ordering scaled
/// down to milliseconds for a real-time run.
#[derive(Clone, Copy)]
struct Delays {
    short: u64,
    interval: u64,
    long: u64,
    unref: u64,
    max: u64,
}

const REAL_WORLD: Delays = Delays {
    short: 10_000,           // 10 s
    interval: 60_000,        // 1 min
    long: 3_600_000,         // 1 h
    unref: 7_200_000,        // 2 h
    max: TIMEOUT_MAX as u64, // 2^31 - 1 ms, about 24.8 days
};

const SCALED: Delays = Delays {
    short: 10,
    interval: 40,
    long: 200,
    unref: 240,
    max: 280,
};

/// The program: returns (event, loop time since the main script began).
fn program(lp: &EventLoop, d: Delays) -> Vec<(String, u64)> {
    let events: Events = Rc::default();
    let ev = events.clone();
    lp.run_main(move || {
        let t0 = evloop::now();
        record(&ev, t0, "main");
        let e = ev.clone();
        next_tick(move || record(&e, t0, "tick"));
        let e = ev.clone();
        queue_microtask(move || record(&e, t0, "microtask"));
        let e = ev.clone();
        set_immediate(move || record(&e, t0, "immediate"));

        // `short` clears `cleared`, which is set after it, so that it has the
        // later deadline however long the script takes between the two.
        let e = ev.clone();
        let to_clear: Rc<Cell<Option<Timer>>> = Rc::new(Cell::new(None));
        let c = to_clear.clone();
        set_timeout(d.short, move || {
            record(&e, t0, "short");
            c.get().expect("set in the main script").clear();
            let e2 = e.clone();
            next_tick(move || record(&e2, t0, "short:tick"));
            let e2 = e.clone();
            set_immediate(move || record(&e2, t0, "short:immediate"));
            let e2 = e.clone();
            set_timeout(0, move || record(&e2, t0, "short:zero"));
        });
        let e = ev.clone();
        let cleared = set_timeout(d.long, move || record(&e, t0, "cleared (must not run)"));
        to_clear.set(Some(cleared));

        let e = ev.clone();
        let runs = Rc::new(Cell::new(0u32));
        let me: Rc<Cell<Option<Timer>>> = Rc::new(Cell::new(None));
        let m = me.clone();
        let iv = set_interval(d.interval, move || {
            runs.set(runs.get() + 1);
            record(&e, t0, format!("interval#{}", runs.get()));
            if runs.get() == 3 {
                clear_interval(m.get().unwrap());
            }
        });
        me.set(Some(iv));

        let e = ev.clone();
        set_timeout(d.long, move || record(&e, t0, "long"));
        let e = ev.clone();
        // Unref'd: fires only because the `max` timer keeps the loop alive.
        set_timeout(d.unref, move || record(&e, t0, "unref")).unref();
        let e = ev.clone();
        set_timeout(d.max, move || record(&e, t0, "max"));
    });
    events.take()
}

fn names(events: &[(String, u64)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

const EXPECTED_ORDER: [&str; 14] = [
    "main",
    "tick",
    "microtask",
    "immediate",
    "short",
    "short:tick",
    "short:immediate",
    "short:zero",
    "interval#1",
    "interval#2",
    "interval#3",
    "long",
    "unref",
    "max",
];

#[test]
fn long_timers_run_instantly_with_exact_timestamps() {
    // The program spans 24.8 days: were the loop to wait for its timers in
    // real time, the watchdog would stop the test.
    let _w = common::watchdog();
    let lp = virtual_loop();
    let events = program(&lp, REAL_WORLD);
    let d = REAL_WORLD;
    let expected: Vec<(String, u64)> = [
        ("main", 0),
        ("tick", 0),
        ("microtask", 0),
        ("immediate", 0),
        ("short", d.short),
        ("short:tick", d.short),
        ("short:immediate", d.short),
        ("short:zero", d.short + 1),
        ("interval#1", d.interval),
        ("interval#2", 2 * d.interval),
        ("interval#3", 3 * d.interval),
        ("long", d.long),
        ("unref", d.unref),
        ("max", d.max),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t))
    .collect();
    assert_eq!(events, expected);
    assert_eq!(names(&events), EXPECTED_ORDER);
    assert!(!lp.is_alive());
    // The loop clock ends at the last deadline.
    assert_eq!(lp.now(), d.max);
}

/// The deadline of each timer of [`program`], from the start of the main
/// script: in virtual time it runs exactly then, in real time at the
/// earliest then (an interval re-arms from when its run starts, a timer set
/// in a callback counts from that callback, so late runs only push the later
/// deadlines further).
fn deadline(d: Delays, name: &str) -> Option<u64> {
    Some(match name {
        "short" => d.short,
        "short:zero" => d.short + 1,
        "interval#1" => d.interval,
        "interval#2" => 2 * d.interval,
        "interval#3" => 3 * d.interval,
        "long" => d.long,
        "unref" => d.unref,
        "max" => d.max,
        _ => return None,
    })
}

/// The orders [`program`] has whatever the timing: each pair `(a, b)` runs
/// `a` before `b`.
const ALWAYS_BEFORE: [(&str, &str); 14] = [
    // The main script, then its tick, then its microtask, before any phase.
    ("main", "tick"),
    ("tick", "microtask"),
    ("microtask", "immediate"),
    ("microtask", "short"),
    ("microtask", "interval#1"),
    // A callback's tick right after it, its immediate in that iteration's
    // check phase, its timer in a later iteration.
    ("short", "short:tick"),
    ("short:tick", "short:immediate"),
    ("short:immediate", "short:zero"),
    // The main script's immediate is queued before `short`'s.
    ("immediate", "short:immediate"),
    ("interval#1", "interval#2"),
    ("interval#2", "interval#3"),
    // Timers set together run in deadline order, even in one late pass
    // (`cleared`, set after `short` with the long delay, is due after it
    // too, so `short` always clears it in time).
    ("short", "long"),
    ("long", "unref"),
    ("unref", "max"),
];

/// Whether `a` runs before `b` whatever the timing: [`ALWAYS_BEFORE`],
/// followed through.
fn always_before(a: &str, b: &str) -> bool {
    let mut reached = vec![a];
    let mut i = 0;
    while i < reached.len() {
        for (x, y) in ALWAYS_BEFORE {
            if x == reached[i] && !reached.contains(&y) {
                reached.push(y);
            }
        }
        i += 1;
    }
    reached[1..].contains(&b)
}

#[test]
fn same_order_under_virtual_and_real_time() {
    let _w = common::watchdog();
    let virt = program(&virtual_loop(), SCALED);
    assert_eq!(names(&virt), EXPECTED_ORDER);
    for (name, t) in &virt {
        let exact = match name.as_str() {
            "short:tick" | "short:immediate" => SCALED.short,
            _ => deadline(SCALED, name).unwrap_or(0),
        };
        assert_eq!(*t, exact, "virtual time: {name}");
    }
    // The same program with the real-world delays has the same order too.
    assert_eq!(names(&program(&virtual_loop(), REAL_WORLD)), EXPECTED_ORDER);

    // In real time a busy machine can run any callback late, and a late
    // enough one changes the order: if `short` runs after 40 ms, `interval#1`
    // is due in the same pass. So real time must keep the orders that hold
    // whatever the timing, never run a timer early, and give exactly the
    // virtual order whenever no event ran as late as the deadline of an
    // event that comes after it in that order.
    let real = program(&EventLoop::new().unwrap(), SCALED);
    let order = names(&real);
    let mut sorted = order.clone();
    sorted.sort_unstable();
    let mut expected = EXPECTED_ORDER.to_vec();
    expected.sort_unstable();
    assert_eq!(sorted, expected, "each event once: {real:?}");
    let at = |name: &str| order.iter().position(|n| *n == name).unwrap();
    for (a, b) in ALWAYS_BEFORE {
        assert!(at(a) < at(b), "real time ran {b} before {a}: {real:?}");
    }
    assert_eq!(
        at("short:tick"),
        at("short") + 1,
        "a tick runs right after its callback: {real:?}"
    );
    for (name, t) in &real {
        if let Some(dl) = deadline(SCALED, name) {
            assert!(*t >= dl, "real time: {name} ran at +{t} ms, before {dl}");
        }
    }
    // An event that ran before a later timer's deadline cannot have been
    // overtaken by that timer: the loop time only grows, and a timer runs at
    // its deadline or after. With no such lateness (where the order is not
    // one of those above anyway), only the virtual order is left.
    let kept_up = real.iter().all(|(name, t)| {
        let i = EXPECTED_ORDER.iter().position(|n| n == name).unwrap();
        EXPECTED_ORDER[i + 1..]
            .iter()
            .filter(|later| !always_before(name, later))
            .filter_map(|later| deadline(SCALED, later))
            .all(|dl| *t < dl)
    });
    if kept_up {
        assert_eq!(order, EXPECTED_ORDER, "real time: {real:?}");
    } else {
        println!(
            "real time ran late (a busy machine?), so only the orders that hold whatever the timing were checked: {real:?}"
        );
    }
}

#[test]
fn many_timers_fire_in_deadline_then_creation_order_at_their_deadline() {
    let _w = common::watchdog();
    const N: u64 = 2000;
    let fired: Rc<RefCell<Vec<(u64, u64)>>> = Rc::default();
    let f = fired.clone();
    let lp = virtual_loop();
    lp.run_main(move || {
        // Pseudo-random deadlines up to 2^31 - 1 ms, with many duplicates.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in 0..N {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let delay = match i % 4 {
                0 => 1 + x % 64,
                1 => 1 + x % 5_000,
                2 => 1 + x % 10_000_000,
                _ => 1 + x % TIMEOUT_MAX as u64,
            };
            let f = f.clone();
            set_timeout(delay, move || {
                let now = evloop::now();
                assert_eq!(now, delay, "timer {i} ({delay} ms) fired at {now}");
                assert_eq!(evloop::hrtime(), delay * 1_000_000);
                f.borrow_mut().push((delay, i));
            });
        }
    });
    let fired = fired.take();
    assert_eq!(fired.len(), N as usize, "each timer fired exactly once");
    let mut sorted = fired.clone();
    sorted.sort_unstable();
    assert_eq!(fired, sorted, "(deadline, creation) order");
}

#[test]
fn intervals_and_nested_timers_have_exact_virtual_times() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let times: Rc<RefCell<Vec<u64>>> = Rc::default();
    let t = times.clone();
    lp.run_main(move || {
        let n = Rc::new(Cell::new(0u32));
        let me: Rc<Cell<Option<Timer>>> = Rc::new(Cell::new(None));
        let m = me.clone();
        let t2 = t.clone();
        me.set(Some(set_interval(60_000, move || {
            n.set(n.get() + 1);
            t2.borrow_mut().push(evloop::now());
            if n.get() == 1000 {
                clear_interval(m.get().unwrap());
                // A timer set from a timer counts from this pass's time.
                let t3 = t2.clone();
                set_timeout(5, move || t3.borrow_mut().push(evloop::now()));
            }
        })));
    });
    let times = times.take();
    assert_eq!(times.len(), 1001);
    for (k, &at) in times[..1000].iter().enumerate() {
        assert_eq!(at, (k as u64 + 1) * 60_000);
    }
    assert_eq!(times[1000], 1000 * 60_000 + 5);
}

#[test]
fn virtual_clock_stands_still_while_callbacks_run() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let seen: Rc<Cell<(u64, u64)>> = Rc::default();
    let s = seen.clone();
    lp.run_main(move || {
        set_timeout(1_000, move || {
            let h0 = evloop::hrtime();
            // sleep: the real time that passes in a callback; the virtual
            // clock must not move, however long it is.
            thread::sleep(Duration::from_millis(5));
            s.set((h0, evloop::hrtime()));
        });
    });
    let (h0, h1) = seen.get();
    assert_eq!(h0, 1_000_000_000);
    assert_eq!(h1, h0, "the virtual clock moved during a callback");
}

#[test]
fn cross_thread_post_arrives_under_virtual_time() {
    let _w = common::watchdog();
    type Seen = Rc<RefCell<Vec<(String, u64)>>>;
    thread_local! {
        static POSTED: RefCell<Vec<(String, u64)>> = const { RefCell::new(Vec::new()) };
    }
    let lp = virtual_loop();
    let seen: Seen = Rc::default();

    // 1. A post already queued when the loop starts runs in the first poll
    //    phase, before the loop jumps to a far timer.
    let early = lp.handle();
    thread::spawn(move || {
        early
            .post(|| POSTED.with(|p| p.borrow_mut().push(("early post".into(), evloop::now()))))
            .unwrap();
    })
    .join()
    .unwrap();

    // 2. When only the cross-thread handle keeps the loop alive, it blocks
    //    for real until the post arrives (virtual time does not move).
    let late = lp.handle();
    let (tx, rx) = mpsc::channel::<()>();
    let poster = thread::spawn(move || {
        rx.recv().unwrap();
        // sleep: makes the loop wait for the post in real time, which the
        // lower bound on the elapsed time below shows; what runs, and at
        // which virtual time, does not depend on it (the loop cannot jump or
        // end while the referenced handle lives).
        thread::sleep(Duration::from_millis(20));
        late.post(|| POSTED.with(|p| p.borrow_mut().push(("late post".into(), evloop::now()))))
            .unwrap();
        // `late` dropped here: the loop may exit after running the post.
    });
    let s = seen.clone();
    let start = Instant::now();
    lp.run_main(move || {
        set_timeout(3_600_000, move || {
            s.borrow_mut().push(("1 h timer".into(), evloop::now()));
            tx.send(()).unwrap();
        });
    });
    poster.join().unwrap();
    assert!(start.elapsed() >= Duration::from_millis(19));
    let posted = POSTED.with(|p| p.take());
    assert_eq!(
        posted,
        [
            ("early post".to_string(), 0),
            ("late post".to_string(), 3_600_000)
        ]
    );
    assert_eq!(*seen.borrow(), [("1 h timer".to_string(), 3_600_000)]);
    assert!(!lp.is_alive());
}

#[test]
fn run_nowait_never_jumps_the_virtual_clock() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.enter(|| {
        set_timeout(10_000, || {});
    });
    for _ in 0..5 {
        assert!(lp.run(RunMode::NoWait));
    }
    assert_eq!(lp.now(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(lp.now(), 10_000);
}

#[test]
fn run_once_jumps_to_the_timer_and_runs_it() {
    let _w = common::watchdog();
    // uv_run(UV_RUN_ONCE) blocks until the next timer and runs it; under
    // virtual time the "block" is a jump to the timer's deadline. (Were it
    // to sleep for real, the hour would trip the watchdog.)
    let lp = virtual_loop();
    let fired = Rc::new(Cell::new(false));
    let f = fired.clone();
    lp.enter(|| {
        set_timeout(3_600_000, move || f.set(true));
    });
    let alive = lp.run(RunMode::Once);
    assert_eq!(
        (lp.now(), fired.get(), alive),
        (3_600_000, true, false),
        "(loop time, timer fired, alive) after one run(Once)"
    );
}

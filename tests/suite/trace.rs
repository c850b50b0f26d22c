//! Watching the loop: snapshots, the phase trace, the Chrome trace file,
//! utilization, the delay histogram and the blocked-loop watchdog.

use crate::common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::{
    EventLoop, Phase, RefCounts, next_tick, queue_work, set_immediate, set_timeout, snapshot,
};

/// Starts capturing what evloop logs on this thread ([`common::logs`], the
/// test binary's one logger). The tests run in parallel, so each reads its
/// own thread's records (or, for the watchdog, its own message).
fn capture_logs() {
    common::logs::capture();
}

/// (target, message) of the records logged on this thread so far.
fn my_logs() -> Vec<(String, String)> {
    common::logs::mine()
        .into_iter()
        .map(|l| (l.target, l.text))
        .collect()
}

/// (target, message) of the records that contain `needle`: this thread's,
/// and the warnings of threads that do not capture (the watchdog's).
fn logs_containing(needle: &str) -> Vec<(String, String)> {
    common::logs::mine()
        .into_iter()
        .chain(common::logs::others())
        .filter(|l| l.text.contains(needle))
        .map(|l| (l.target, l.text))
        .collect()
}

#[test]
fn a_snapshot_shows_every_queue_with_labels() {
    let _w = common::watchdog();
    // Virtual time: the clock stands still between the two set_timeout
    // calls, so the 20 ms timer is due first however slow the machine is.
    let lp = EventLoop::builder()
        .teaching(true)
        .virtual_time(true)
        .threadpool_size(1)
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (snap, lines) = lp.enter(move || {
        let (_, l50) = (set_timeout(50, || {}), line!());
        let (t, l20) = (set_timeout(20, || {}), line!());
        t.unref();
        let (_, limm) = (set_immediate(|| {}), line!());
        let ((), ltick) = (next_tick(|| {}), line!());
        let _ = queue_work(move || rx.recv().unwrap(), |_| {});
        let _ = queue_work(|| (), |_| {});
        // Wait until the pool thread runs the first job (however long that
        // takes on a busy machine; the test's watchdog bounds it).
        while snapshot().pool_running == 0 {
            // sleep: a wait for the condition above, not for a race.
            std::thread::sleep(Duration::from_millis(1));
        }
        (snapshot(), (l50, l20, limm, ltick))
    });
    tx.send(()).unwrap();
    let here = |l: u32| format!("{}:{l}", file!());
    assert_eq!(snap.phase, Phase::Main);
    assert_eq!(snap.iteration, 0);
    assert_eq!(snap.next_ticks, 1);
    assert_eq!(snap.microtasks, 0);
    assert_eq!(
        snap.timers,
        RefCounts {
            referenced: 1,
            unreferenced: 1
        }
    );
    assert_eq!(
        snap.immediates,
        RefCounts {
            referenced: 1,
            unreferenced: 0
        }
    );
    assert_eq!((snap.pool_running, snap.pool_queued), (1, 1));
    assert_eq!((snap.pending, snap.closing, snap.tasks), (0, 0, 0));
    let (l50, l20, limm, ltick) = lines;
    // Display (issue 21): one line of counts, then a line per queue with
    // labels.
    assert_eq!(
        snap.to_string(),
        format!(
            "iteration 0, phase main: next ticks 1, microtasks 0, timers 2 (1 unref'd), \
             immediates 1, pending 0, closing 0, pool 1 queued 1 running, tasks 0, I/O 0, \
             loop handles 0, posts 0\n  next ticks: {}\n  timers: {}, {}\n  immediates: {}",
            here(ltick),
            here(l20),
            here(l50),
            here(limm)
        )
    );
    let labels = snap.labels.expect("teaching mode");
    // Timers by deadline: the 20 ms one before the 50 ms one.
    assert_eq!(labels.timers, [here(l20), here(l50)]);
    assert_eq!(labels.immediates, [here(limm)]);
    assert_eq!(labels.next_ticks, [here(ltick)]);
    lp.run(evloop::RunMode::Default);
    let after = lp.snapshot();
    assert_eq!(after.timers, RefCounts::default());
    assert_eq!((after.pool_running, after.pool_queued), (0, 0));
}

#[test]
fn microtask_labels_list_callbacks_and_task_polls_in_queue_order() {
    let _w = common::watchdog();
    // A task poll is queued as the task's key, not as a callback: its label
    // is the task's spawn site, in its place among the other microtasks.
    let lp = EventLoop::builder().teaching(true).build().unwrap();
    let (snap, lines) = lp.enter(|| {
        let ((), la) = (evloop::queue_microtask(|| {}), line!());
        let (t, lt) = (evloop::spawn(evloop::yield_now()), line!());
        t.detach();
        let ((), lb) = (evloop::queue_microtask(|| {}), line!());
        (snapshot(), [la, lt, lb])
    });
    assert_eq!(snap.microtasks, 3);
    let here = lines.map(|l| format!("{}:{l}", file!()));
    assert_eq!(snap.labels.unwrap().microtasks, here);
    lp.run(evloop::RunMode::Default);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn named_timers_and_immediates_show_their_names() {
    let _w = common::watchdog();
    let lp = EventLoop::builder().teaching(true).build().unwrap();
    let labels = lp.enter(|| {
        let (t, lt) = (set_timeout(10, || {}), line!());
        t.set_name("poll the queue");
        let (i, li) = (set_immediate(|| {}), line!());
        i.set_name("flush logs");
        let labels = snapshot().labels.unwrap();
        (labels, lt, li)
    });
    let (labels, lt, li) = labels;
    assert_eq!(
        labels.timers,
        [format!("poll the queue ({}:{lt})", file!())]
    );
    assert_eq!(
        labels.immediates,
        [format!("flush logs ({}:{li})", file!())]
    );
    lp.run(evloop::RunMode::Default);
}

#[test]
fn the_trace_lists_phases_in_libuv_order() {
    let _w = common::watchdog();
    capture_logs();
    let lp = EventLoop::builder().trace(true).build().unwrap();
    let marker = "trace-order-marker";
    lp.run_main(move || {
        set_timeout(1, || {});
        set_immediate(|| {});
        evloop::handle().post(|| {}).unwrap();
        let server = evloop::net::create_server(|_| {});
        server.listen("127.0.0.1:0").unwrap();
        server.close(|| {});
        log::trace!(target: "evloop::trace", "{marker}");
    });
    // Only this thread's loop: other tests' loops log at the same time.
    let logs = my_logs();
    let start = logs.iter().position(|(_, m)| m.contains(marker)).unwrap();
    let phases: Vec<(u64, String)> = logs[start..]
        .iter()
        .filter(|(t, _)| t == "evloop::trace")
        .filter_map(|(_, m)| {
            let rest = m.strip_prefix("iteration ")?;
            let (n, rest) = rest.split_once(' ')?;
            let (phase, _) = rest.split_once(':')?;
            Some((n.parse().ok()?, phase.to_string()))
        })
        .collect();
    let order = [
        "timers",
        "pending",
        "idle/prepare",
        "poll",
        "check",
        "close",
    ];
    let rank = |p: &str| order.iter().position(|o| *o == p).unwrap();
    for w in phases.windows(2) {
        let ((i1, p1), (i2, p2)) = (&w[0], &w[1]);
        assert!(i1 < i2 || (i1 == i2 && rank(p1) < rank(p2)), "{phases:?}");
    }
    let seen: Vec<&str> = phases.iter().map(|(_, p)| p.as_str()).collect();
    for p in ["poll", "check", "timers"] {
        assert!(seen.contains(&p), "{p} missing from {phases:?}");
    }
    // Each callback's scheduling site is logged.
    assert!(
        logs[start..]
            .iter()
            .any(|(_, m)| m.contains(&format!("scheduled at {}:", file!()))),
        "no callback sites"
    );
}

/// A tick or microtask run in the drain after a timer is logged as what it
/// is, with the phase it ran in (issue 17: the lines used to carry only the
/// phase's name).
#[test]
fn the_trace_names_the_queue_each_callback_came_from() {
    let _w = common::watchdog();
    capture_logs();
    let lp = EventLoop::builder()
        .trace(true)
        .virtual_time(true)
        .build()
        .unwrap();
    let lines = lp.run_main(|| {
        let l_timer = line!() + 2;
        let (l_tick, l_micro) = (line!() + 3, line!() + 4);
        set_timeout(1, move || {
            // (two lines below: the tick, then the microtask)
            evloop::next_tick(|| {});
            evloop::queue_microtask(|| {});
        });
        (l_timer, l_tick, l_micro)
    });
    let (l_timer, l_tick, l_micro) = lines;
    let logs: Vec<String> = my_logs()
        .into_iter()
        .filter(|(t, _)| t == "evloop::trace")
        .map(|(_, m)| m)
        .collect();
    let f = file!();
    for expected in [
        format!("timers phase: timer scheduled at {f}:{l_timer}"),
        format!("timers phase: next tick scheduled at {f}:{l_tick}"),
        format!("timers phase: microtask scheduled at {f}:{l_micro}"),
    ] {
        assert!(
            logs.iter().any(|m| m.contains(&expected)),
            "no line with {expected:?} in {logs:#?}"
        );
    }
}

#[test]
fn the_chrome_trace_is_valid_and_has_the_expected_events() {
    let _w = common::watchdog();
    let path = std::env::temp_dir().join(format!("evloop-trace-{}.json", std::process::id()));
    let lp = EventLoop::builder()
        .trace_file(&path)
        .threadpool_size(1)
        .build()
        .unwrap();
    let timer_line = line!() + 2;
    lp.run_main(|| {
        set_timeout(2, || {});
        set_immediate(|| {});
        // sleep: gives the pool job's slice a width; nothing checked below
        // depends on how long the job takes.
        let _ = queue_work(|| std::thread::sleep(Duration::from_millis(2)), |_| {});
    });
    drop(lp);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let events = json.as_array().expect("a JSON array of events");
    let has = |f: &dyn Fn(&serde_json::Value) -> bool| events.iter().any(f);
    let timer_site = format!("{}:{timer_line}", file!());
    // A callback slice named by its site, inside the timers phase.
    assert!(has(&|e| e["ph"] == "X"
        && e["name"] == timer_site.as_str()
        && e["cat"] == "timers"));
    assert!(has(&|e| e["ph"] == "X" && e["cat"] == "check"));
    // Phase slices.
    for phase in ["timers", "poll", "check"] {
        assert!(
            has(&|e| e["ph"] == "X" && e["cat"] == "phase" && e["name"] == phase),
            "{phase}"
        );
    }
    // A pool thread track with the job on it.
    assert!(has(
        &|e| e["ph"] == "M" && e["args"]["name"] == "pool thread 0"
    ));
    assert!(has(&|e| e["ph"] == "X"
        && e["cat"] == "pool"
        && e["tid"].as_u64().is_some_and(|t| t % 1000 == 100)));
    // Flow arrows: every arrow head has its tail.
    let ids = |ph: &str| -> Vec<u64> {
        events
            .iter()
            .filter(|e| e["ph"] == ph)
            .filter_map(|e| e["id"].as_u64())
            .collect()
    };
    let (tails, heads) = (ids("s"), ids("f"));
    assert!(heads.len() >= 2, "{heads:?}");
    assert!(heads.iter().all(|h| tails.contains(h)));
    // Every event has the fields viewers need.
    for e in events {
        assert!(
            e["ph"].is_string() && e["pid"].is_u64() && e["tid"].is_u64(),
            "{e}"
        );
        if e["ph"] == "X" {
            assert!(e["ts"].is_f64() && e["dur"].is_f64(), "{e}");
        }
    }
}

/// On virtual time the loop's utilization is exact: idle is the time it
/// waited for timers, active what callbacks held it for.
#[test]
fn utilization_is_low_when_waiting_and_high_when_spinning() {
    let _w = common::watchdog();
    let virtual_loop = || EventLoop::builder().virtual_time(true).build().unwrap();
    let elu = virtual_loop().run_async(async {
        let before = evloop::event_loop_utilization();
        evloop::sleep(200).await;
        evloop::event_loop_utilization().since(&before)
    });
    assert_eq!((elu.idle, elu.active), (ms(200), ms(0)), "{elu:?}");
    assert_eq!(elu.utilization, 0.0);
    let elu = virtual_loop().run_async(async {
        let before = evloop::event_loop_utilization();
        evloop::sleep(1).await;
        evloop::block_for(ms(199));
        evloop::event_loop_utilization().since(&before)
    });
    assert_eq!((elu.idle, elu.active), (ms(1), ms(199)), "{elu:?}");
    assert!(elu.utilization > 0.99, "{elu:?}");
}

/// On real time only what holds on any machine: a reading spans the time
/// it covers, and a busy callback's time is active, never idle.
#[test]
fn utilization_on_real_time_counts_busy_time_as_active() {
    let _w = common::watchdog();
    let elu = EventLoop::new().unwrap().run_async(async {
        let before = evloop::event_loop_utilization();
        evloop::sleep(50).await;
        evloop::event_loop_utilization().since(&before)
    });
    assert!(elu.idle + elu.active >= ms(50), "{elu:?}");
    let elu = EventLoop::new().unwrap().run_async(async {
        let before = evloop::event_loop_utilization();
        evloop::sleep(1).await;
        let start = Instant::now();
        while start.elapsed() < ms(100) {}
        evloop::event_loop_utilization().since(&before)
    });
    assert!(elu.active >= ms(100), "{elu:?}");
}

/// On virtual time every sample is exact: a 10 ms resolution samples 10 ms
/// while the loop is free, and a 150 ms block shows up in one sample.
#[test]
fn the_delay_histogram_records_a_block() {
    let _w = common::watchdog();
    let lp = EventLoop::builder().virtual_time(true).build().unwrap();
    let (samples, max, min, stats) = lp.run_async(async {
        let monitor = evloop::monitor_event_loop_delay(ms(10));
        evloop::sleep(50).await;
        evloop::block_for(ms(150));
        evloop::sleep(30).await;
        monitor.disable();
        let p = |q| monitor.percentile(q);
        let stats = (p(0.0), p(50.0), p(85.0), p(86.0), p(100.0), monitor.mean());
        (monitor.count(), monitor.max(), monitor.min(), stats)
    });
    // Firings at 10, 20, 30 and 40 ms. At 50 ms the sleep's timer (created
    // first) runs before the interval's, and its task blocks until 200 ms;
    // the interval's firing then samples 200 - 40 = 160 ms. It re-arms from
    // 200 ms: 210 and 220; the one due at 230 is cleared by the 30 ms
    // sleep's wake-up, which was created first for that millisecond.
    assert_eq!(samples, 7);
    assert_eq!(max, 160_000_000);
    assert_eq!(min, 10_000_000);
    // Percentiles from the bounded histogram (issue 21): the sample of rank
    // ceil(p% of 7), at most 0.1% above it; the ends exact.
    let (p0, p50, p85, p86, p100, mean) = stats;
    assert_eq!((p0, p100), (min, max));
    let near = |got: u64, want: u64| got >= want && got - want <= want / 1000;
    assert!(near(p50, 10_000_000), "p50 {p50}");
    assert!(near(p85, 10_000_000), "p85 {p85}: rank 6 of 7");
    assert_eq!(p86, 160_000_000, "rank 7 of 7");
    assert_eq!(mean, 220_000_000.0 / 7.0);
}

/// On real time: lower bounds only (a timer never fires early, a block
/// lasts at least its length).
#[test]
fn the_delay_histogram_on_real_time_records_at_least_the_block() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let (max, min) = lp.run_async(async {
        let monitor = evloop::monitor_event_loop_delay(ms(10));
        evloop::sleep(30).await;
        let start = Instant::now();
        while start.elapsed() < ms(100) {}
        evloop::sleep(20).await;
        monitor.disable();
        (monitor.max(), monitor.min())
    });
    assert!(max >= 100_000_000, "max {max} ns");
    assert!(min >= 10_000_000, "min {min} ns");
}

/// The blocking callback holds the loop until the watchdog has named it
/// (however long that takes on a busy machine), then for three more of the
/// watchdog's checks: one warning per stall. A loop waiting in its poll
/// phase for many thresholds is not blocked, and a callback that returns
/// at once is not named; the threshold is scaled with the suite's
/// slowdown (valgrind), so a trivial callback stays far below it.
#[test]
fn the_watchdog_names_the_blocking_callback_and_stays_quiet_otherwise() {
    let _w = common::watchdog();
    capture_logs();
    let threshold = ms(100) * common::slowdown();
    let lp = EventLoop::builder().watchdog(threshold).build().unwrap();
    let blocking_line = Rc::new(Cell::new(0));
    let (b, line_of_blocking) = (blocking_line.clone(), blocking_line.clone());
    let quiet_line = lp.run_main(move || {
        let quiet = line!() + 1;
        set_timeout(1, || {});
        // The loop waits in poll for three thresholds here.
        line_of_blocking.set(line!() + 1);
        set_timeout(threshold * 3, move || {
            let at = format!("{}:{}", file!(), b.get());
            while logs_containing(&at).is_empty() {
                // sleep: the callback waits for the warning, a condition.
                std::thread::sleep(ms(1));
            }
            // sleep: three more watchdog checks (one every threshold/4)
            // while the same stall goes on; any repeat would be counted.
            std::thread::sleep(threshold);
        });
        quiet
    });
    let blocking_line = blocking_line.get();
    let warned = logs_containing("the event loop is blocked");
    let at = |l: u32| format!("{}:{l}", file!());
    assert!(
        warned
            .iter()
            .any(|(t, m)| t == "evloop::watchdog" && m.contains(&at(blocking_line))),
        "{warned:?}"
    );
    assert!(
        !warned.iter().any(|(_, m)| m.contains(&at(quiet_line))),
        "{warned:?}"
    );
    assert_eq!(
        warned
            .iter()
            .filter(|(_, m)| m.contains(&at(blocking_line)))
            .count(),
        1,
        "once per stall: {warned:?}"
    );
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Every loop of a process that traces to one file is in it, each on its
/// own track: a loop dropped earlier is not overwritten by a later one
/// (issue 17: the tour's twelve loops used to leave only the last).
#[test]
fn every_loop_tracing_to_one_file_keeps_its_track() {
    let _w = common::watchdog();
    let path = std::env::temp_dir().join(format!("evloop-trace-all-{}.json", std::process::id()));
    let mut ids = Vec::new();
    for _ in 0..3 {
        let lp = EventLoop::builder().trace_file(&path).build().unwrap();
        ids.push(lp.run_main(|| {
            set_immediate(|| {});
            evloop::snapshot().iteration // (anything: the loop is the point)
        }));
        drop(lp);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let events = json.as_array().expect("a JSON array of events");
    let tracks: std::collections::BTreeSet<u64> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .filter(|e| {
            e["args"]["name"]
                .as_str()
                .unwrap()
                .starts_with("event loop ")
        })
        .map(|e| e["tid"].as_u64().unwrap())
        .collect();
    assert_eq!(tracks.len(), 3, "{tracks:?}");
    // Each loop's check phase ran its immediate on its own track.
    for tid in &tracks {
        assert!(
            events
                .iter()
                .any(|e| e["ph"] == "X" && e["cat"] == "check" && e["tid"] == *tid),
            "no immediate on track {tid}"
        );
    }
}

/// `walk` (libuv's `uv_walk`): every kind of handle, referenced or not,
/// with its state, site and name; Node's `getActiveResourcesInfo()` is the
/// referenced ones.
#[test]
fn walk_lists_every_handle_with_its_state_site_and_name() {
    let _w = common::watchdog();
    use evloop::{Check, HandleKind as K, Idle, Prepare, walk};
    let lp = EventLoop::builder().virtual_time(true).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (handles, server, idle, timers, handle) = lp.enter(move || {
        let timer = set_timeout(50, || {});
        timer.set_name("fifty");
        let interval = evloop::set_interval(10, || {});
        interval.unref();
        set_immediate(|| {});
        let idle = Idle::new();
        idle.start(|_| {});
        idle.unref();
        let _stopped = Prepare::new();
        let check = Check::new();
        check.set_name("closing check");
        check.start(|_| {});
        check.close(|| {});
        let server = evloop::net::create_server(|_| {});
        server.listen("127.0.0.1:0").unwrap();
        queue_work(
            move || {
                let _ = rx.recv();
            },
            |_| {},
        );
        let handle = evloop::handle();
        (walk(), server, idle, [timer, interval], handle)
    });
    // (kind, referenced, active, closing, keeps the loop alive, name,
    // whether it has a site here)
    let here = Some(file!());
    let seen: Vec<_> = handles
        .iter()
        .map(|h| {
            let site = h.site.map(|s| s.file());
            (
                h.kind,
                h.referenced,
                h.active,
                h.closing,
                h.keeps_alive(),
                h.name,
                site == here,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (K::Timer, false, true, false, false, None, true),
            (K::Timer, true, true, false, true, Some("fifty"), true),
            (K::Immediate, true, true, false, true, None, true),
            (K::Idle, false, true, false, false, None, true),
            (K::Prepare, true, false, false, false, None, true),
            (
                K::Check,
                true,
                false,
                true,
                true,
                Some("closing check"),
                true
            ),
            (K::TcpServer, true, true, false, true, None, false),
            (K::Work, true, true, false, true, None, true),
            (K::LoopHandle, true, true, false, true, None, false),
        ],
        "{handles:#?}"
    );
    let names: Vec<&str> = handles
        .iter()
        .filter(|h| h.keeps_alive())
        .map(|h| h.kind.name())
        .collect();
    assert_eq!(
        names,
        [
            "Timeout",
            "Immediate",
            "check",
            "TCPServerWrap",
            "work",
            "async"
        ]
    );
    assert_eq!(lp.walk(), handles, "the same between runs");
    drop(tx);
    drop(handle);
    lp.enter(|| {
        for t in timers {
            t.clear();
        }
        idle.close(|| {});
        server.close(|| {});
    });
    lp.run(evloop::RunMode::Default);
    // The stopped prepare handle was never closed: still listed.
    let left: Vec<K> = lp.walk().iter().map(|h| h.kind).collect();
    assert_eq!(left, [K::Prepare]);
}

/// A connected socket is a `TCPSocketWrap` in the walk, as in Node.
#[test]
fn walk_lists_sockets() {
    let _w = common::watchdog();
    use evloop::HandleKind as K;
    let kinds = Rc::new(std::cell::RefCell::new(Vec::new()));
    let k = kinds.clone();
    evloop::run(move || {
        let server = evloop::net::create_server(|socket| socket.destroy());
        let addr = server.listen("127.0.0.1:0").unwrap();
        let client = Rc::new(std::cell::RefCell::new(None::<evloop::net::Socket>));
        let c = client.clone();
        let socket = evloop::net::connect(addr, move || {
            k.borrow_mut().extend(evloop::walk().iter().map(|h| h.kind));
            c.borrow_mut().take().unwrap().destroy();
            server.close(|| {});
        })
        .unwrap();
        *client.borrow_mut() = Some(socket);
    });
    let kinds = kinds.borrow();
    assert!(kinds.contains(&K::TcpServer), "{kinds:?}");
    assert!(kinds.contains(&K::TcpSocket), "{kinds:?}");
}

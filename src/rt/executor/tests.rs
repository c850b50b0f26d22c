//! The executor's unit tests: the poll fast paths change no order a
//! program can see, and the side maps (`arcs`, `join_wakers`) hold exactly
//! the wakers still needed.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Wake, Waker};

use super::arena::Slot;
use super::{Task, spawn, yield_now};
use crate::rt::context::with_core;
use crate::{EventLoop, channel, deferred, next_tick, queue_microtask, set_immediate};

#[test]
fn sizes() {
    // What a million pending tasks cost in the table and in handles.
    assert_eq!(size_of::<Slot>(), 56);
    assert_eq!(size_of::<Task<u64>>(), 12);
}

type Log = Rc<RefCell<Vec<String>>>;

fn say(log: &Log, what: impl Into<String>) {
    log.borrow_mut().push(what.into());
}

/// Runs `scenario` on a fresh loop, observed (`trace`: the poll fast
/// paths are off) or not, and returns what it logged, with the panics
/// the loop's handler saw (message and spawn line).
fn run(trace: bool, scenario: fn(&Log)) -> Vec<String> {
    let log: Log = Rc::default();
    let l = log.clone();
    let lp = EventLoop::builder()
        .trace(trace)
        .on_uncaught_panic(move |p| {
            say(
                &l,
                format!("panic {:?} at line {}", p.message(), p.site().line()),
            )
        })
        .build()
        .unwrap();
    let l = log.clone();
    lp.run_main(move || scenario(&l));
    log.borrow().clone()
}

/// The fast paths (a self-woken task polled again at once, the sole
/// queued task poll run without a return to the drain) change nothing
/// observable: the same scenario logs the same lines with them off.
fn same_with_and_without_fast_paths(scenario: fn(&Log)) -> Vec<String> {
    let fast = run(false, scenario);
    let plain = run(true, scenario);
    assert_eq!(fast, plain, "the fast paths changed the order");
    fast
}

#[test]
fn fast_paths_keep_ticks_microtasks_and_tasks_in_order() {
    let _w = crate::test_watchdog::watchdog();
    let out = same_with_and_without_fast_paths(|log| {
        let l = log.clone();
        spawn(async move {
            for i in 0..3 {
                let l2 = l.clone();
                next_tick(move || say(&l2, format!("tick {i}")));
                say(&l, format!("a {i}"));
                yield_now().await;
            }
            let (r, d) = deferred();
            r.resolve(5);
            let l2 = l.clone();
            queue_microtask(move || say(&l2, "microtask"));
            say(&l, format!("d {:?}", d.await));
        })
        .detach();
        let l = log.clone();
        spawn(async move {
            say(&l, "b 0");
            yield_now().await;
            say(&l, "b 1");
            let l2 = l.clone();
            let t = spawn(async move {
                say(&l2, "c");
                7
            });
            yield_now().await;
            say(&l, format!("b got {}", t.await));
        })
        .detach();
        let l = log.clone();
        set_immediate(move || say(&l, "immediate"));
    });
    // What Node prints for the same script (`await null`, a resolved
    // promise, an async function's promise, queueMicrotask, nextTick).
    assert_eq!(
        out,
        [
            "a 0",
            "b 0",
            "tick 0",
            "a 1",
            "b 1",
            "c",
            "a 2",
            "b got 7",
            "microtask",
            "d Ok(5)",
            "tick 1",
            "tick 2",
            "immediate"
        ]
    );
}

#[test]
fn fast_paths_keep_a_ping_pong_in_order() {
    let _w = crate::test_watchdog::watchdog();
    same_with_and_without_fast_paths(|log| {
        let (ping_tx, mut ping_rx) = channel::<u32>(1);
        let (pong_tx, mut pong_rx) = channel::<u32>(1);
        let l = log.clone();
        spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                say(&l, format!("echo {v}"));
                let l2 = l.clone();
                queue_microtask(move || say(&l2, format!("echo's microtask {v}")));
                if pong_tx.send(v + 1).await.is_err() {
                    break;
                }
            }
        })
        .detach();
        let l = log.clone();
        spawn(async move {
            for i in 0..4 {
                ping_tx.send(i * 10).await.unwrap();
                let l2 = l.clone();
                next_tick(move || say(&l2, format!("tick {i}")));
                if i % 2 == 1 {
                    // Queued behind echo's poll: the drain runs both.
                    let l2 = l.clone();
                    queue_microtask(move || say(&l2, format!("main's microtask {i}")));
                }
                say(&l, format!("main got {:?}", pong_rx.recv().await));
            }
        })
        .detach();
    });
}

#[test]
fn a_panic_in_a_chained_or_repeated_poll_keeps_its_site_and_place() {
    let _w = crate::test_watchdog::watchdog();
    let out = same_with_and_without_fast_paths(|log| {
        let (tx, mut rx) = channel::<u32>(1);
        let (tx2, mut rx2) = channel::<u32>(1);
        let l = log.clone();
        say(log, format!("b spawned at line {}", line!() + 1));
        spawn(async move {
            // Polled as the sole queued microtask once `main` waits.
            let v = rx.recv().await;
            say(&l, format!("b got {v:?}"));
            let _keep = tx2;
            panic!("b fails");
        })
        .detach();
        let l = log.clone();
        say(log, format!("main spawned at line {}", line!() + 1));
        spawn(async move {
            // From here on, `main` is polled by its microtask.
            yield_now().await;
            tx.send(1).await.unwrap();
            say(&l, format!("main got {:?}", rx2.recv().await));
            let l2 = l.clone();
            next_tick(move || say(&l2, "tick"));
            yield_now().await;
            // Polled again at once: nothing else is queued.
            panic!("main fails after a yield");
        })
        .detach();
    });
    let line = |who: &str| {
        out.iter()
            .find_map(|s| s.strip_prefix(&format!("{who} spawned at line ")))
            .unwrap()
            .to_string()
    };
    let (b, main) = (line("b"), line("main"));
    assert_eq!(
        out[2..],
        [
            "b got Some(1)".to_string(),
            format!("panic Some(\"b fails\") at line {b}"),
            "main got None".to_string(),
            format!("panic Some(\"main fails after a yield\") at line {main}"),
            "tick".to_string(),
        ]
    );
}

#[test]
fn a_panic_in_a_poll_run_by_the_drain_reports_the_tasks_site() {
    let _w = crate::test_watchdog::watchdog();
    // Two polls queued: the first is not the sole microtask, so the drain
    // runs it, and the site comes from the task's slot as it unwinds.
    let out = same_with_and_without_fast_paths(|log| {
        say(log, format!("a spawned at line {}", line!() + 1));
        spawn(async {
            yield_now().await;
            panic!("a fails");
        })
        .detach();
        let l = log.clone();
        spawn(async move {
            yield_now().await;
            say(&l, "b runs");
        })
        .detach();
    });
    let line = out[0].strip_prefix("a spawned at line ").unwrap();
    assert_eq!(
        out[1..],
        [
            format!("panic Some(\"a fails\") at line {line}"),
            "b runs".to_string()
        ]
    );
}

#[test]
fn awaiting_a_task_of_the_loop_clones_no_waker() {
    let _w = crate::test_watchdog::watchdog();
    // The awaiter is recorded by key: no `Arc` waker is made, so a
    // task waiting on a task that nothing can wake does not keep the
    // loop alive either (Node exits when `main` awaits a promise that
    // never settles, however deep the chain).
    let lp = EventLoop::new().unwrap();
    let (resolver, value) = deferred::<u32>();
    let keep = Rc::new(RefCell::new(Some(resolver)));
    let log: Log = Rc::default();
    let l = log.clone();
    lp.run_main(move || {
        let inner = spawn(value);
        spawn(async move {
            let v = inner.await;
            say(&l, format!("inner gave {v:?}"));
        })
        .detach();
        with_core("test", |core| {
            assert!(core.executor.arcs.borrow().is_empty())
        });
    });
    assert!(log.borrow().is_empty());
    assert_eq!(lp.live_tasks(), 2, "both still pending");
    assert!(!lp.is_alive());
    // Settling it later wakes the chain on the next run.
    lp.enter(|| keep.borrow_mut().take().unwrap().resolve(7));
    lp.run(crate::RunMode::Default);
    assert_eq!(*log.borrow(), ["inner gave Ok(7)"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn a_foreign_waker_awaiting_a_task_is_kept_aside_until_the_task_ends() {
    let _w = crate::test_watchdog::watchdog();
    struct Count(std::sync::atomic::AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let lp = EventLoop::new().unwrap();
    let wakers =
        |lp: &EventLoop| lp.enter(|| with_core("test", |c| c.executor.join_wakers.borrow().len()));
    let count = Arc::new(Count(Default::default()));
    let waker = Waker::from(count.clone());
    let (r1, v1) = deferred::<u32>();
    let (r2, v2) = deferred::<u32>();
    let log: Log = Rc::default();
    let l = log.clone();
    let mut first = lp.enter(|| spawn(v1));
    lp.enter(|| {
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
        // The same waker again: kept, not cloned again.
        assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
    });
    assert_eq!(wakers(&lp), 1);
    assert_eq!(Arc::strong_count(&count), 3, "the test's two and one clone");
    lp.enter(|| r1.resolve(1));
    lp.run(crate::RunMode::Default);
    assert_eq!(count.0.load(Ordering::Relaxed), 1, "woken when it ended");
    assert_eq!(wakers(&lp), 0);
    assert_eq!(lp.enter(|| first.take_output()), Some(Ok(1)));
    // A foreign waker, then a task of the loop: the waker is dropped.
    let mut second = lp.enter(|| spawn(v2));
    lp.enter(|| {
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut second).poll(&mut cx).is_pending());
        spawn(async move { say(&l, format!("{:?}", second.await)) }).detach();
    });
    assert_eq!(wakers(&lp), 0);
    assert_eq!(Arc::strong_count(&count), 2);
    lp.enter(|| r2.resolve(2));
    lp.run(crate::RunMode::Default);
    assert_eq!(*log.borrow(), ["Ok(2)"]);
    assert_eq!(count.0.load(Ordering::Relaxed), 1, "not woken again");
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn a_cloned_waker_is_tracked_until_the_task_ends() {
    let _w = crate::test_watchdog::watchdog();
    let lp = EventLoop::new().unwrap();
    let waker = Rc::new(RefCell::new(None::<Waker>));
    let w = waker.clone();
    let log: Log = Rc::default();
    let l = log.clone();
    lp.enter(move || {
        spawn(async move {
            let mut polled = false;
            std::future::poll_fn(|cx| {
                if std::mem::replace(&mut polled, true) {
                    return Poll::Ready(());
                }
                *w.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            })
            .await;
            say(&l, "woken");
        })
        .detach();
    });
    let count = |lp: &EventLoop| lp.enter(|| with_core("test", |c| c.executor.arcs.borrow().len()));
    assert_eq!(count(&lp), 1);
    assert!(lp.is_alive(), "its waker is held: it can be woken");
    let held = waker.borrow_mut().take().unwrap();
    held.wake_by_ref();
    lp.run(crate::RunMode::Default);
    assert_eq!(*log.borrow(), ["woken"]);
    assert_eq!(count(&lp), 0, "a finished task's waker is forgotten");
    drop(held);
    assert_eq!(lp.live_tasks(), 0);
}

//! The executor's contract: when tasks run, what handles do, what is freed,
//! and how wakes from other threads and failures behave.

use crate::common;
use crate::common::{say, take_lines as take, virtual_loop};

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};

use evloop::{
    EventLoop, deferred, next_tick, queue_microtask, set_immediate, set_timeout, sleep, spawn,
    spawn_fallible, yield_now,
};

#[test]
fn spawn_runs_synchronously_up_to_the_first_pending_await() {
    let _w = common::watchdog();
    // JS: async function f() { log('f start'); await null; log('f resumed') }
    //     f(); log('after call'); queueMicrotask(() => log('microtask'));
    // Node: f start, after call, f resumed, microtask
    let lp = EventLoop::new().unwrap();
    lp.run_main(|| {
        spawn(async {
            say("f start");
            yield_now().await;
            say("f resumed");
        })
        .detach();
        say("after call");
        queue_microtask(|| say("microtask"));
    });
    assert_eq!(take(), ["f start", "after call", "f resumed", "microtask"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn awaiting_a_resolved_deferred_costs_one_microtask_tick() {
    let _w = common::watchdog();
    // JS: const p = Promise.resolve(1);
    //     (async () => { await p; log('after await') })();
    //     queueMicrotask(() => log('m1'));
    //     process.nextTick(() => log('tick'));
    // Node: tick, after await, m1
    evloop::run(|| {
        let (resolver, value) = deferred();
        resolver.resolve(1);
        spawn(async move {
            assert_eq!(value.await, Ok(1));
            say("after await");
        })
        .detach();
        queue_microtask(|| say("m1"));
        next_tick(|| say("tick"));
    });
    assert_eq!(take(), ["tick", "after await", "m1"]);
}

#[test]
fn a_task_woken_by_a_timer_runs_right_after_that_timer() {
    let _w = common::watchdog();
    // JS: (async () => { await sleep(10); log('after sleep') })();
    //     setTimeout(() => { log('timer'); process.nextTick(() => log('tick')) }, 10);
    // Node: timer(sleep's) fires first (created first) → 'after sleep' runs as
    // a microtask after it; then 'timer', then 'tick'.
    virtual_loop().run_main(|| {
        spawn(async {
            sleep(10).await;
            say("after sleep");
        })
        .detach();
        set_timeout(10, || {
            say("timer");
            next_tick(|| say("tick"));
        });
        set_immediate(|| say("immediate"));
    });
    assert_eq!(take(), ["immediate", "after sleep", "timer", "tick"]);
}

#[test]
fn awaiting_a_task_yields_its_output() {
    let _w = common::watchdog();
    let out = virtual_loop().run_async(async {
        let t = spawn(async {
            sleep(5).await;
            21
        });
        t.await * 2
    });
    assert_eq!(out, 42);
}

#[test]
fn dropping_a_task_detaches_it_and_it_runs_on() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_main(|| {
        let t = spawn(async {
            sleep(10).await;
            say("detached task finished");
        });
        drop(t);
    });
    assert_eq!(take(), ["detached task finished"]);
    assert_eq!(lp.live_tasks(), 0);
}

struct DropFlag(Rc<Cell<u32>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn abort_drops_the_future_at_once_and_it_never_runs_again() {
    let _w = common::watchdog();
    let dropped = Rc::new(Cell::new(0));
    let lp = virtual_loop();
    let d = dropped.clone();
    lp.run_main(move || {
        let flag = DropFlag(d.clone());
        let t = spawn(async move {
            let _flag = flag;
            sleep(10).await;
            say("must not run");
        });
        assert_eq!(d.get(), 0);
        t.abort();
        assert_eq!(d.get(), 1, "aborting drops the future right away");
    });
    assert!(take().is_empty());
    assert_eq!(dropped.get(), 1);
    assert_eq!(lp.live_tasks(), 0);
    assert!(!lp.is_alive(), "the aborted task's sleep was cleared");
}

#[test]
fn dropping_the_loop_with_pending_tasks_frees_them() {
    let _w = common::watchdog();
    let dropped = Rc::new(Cell::new(0));
    let lp = virtual_loop();
    let d = dropped.clone();
    lp.enter(move || {
        for _ in 0..10 {
            let flag = DropFlag(d.clone());
            spawn(async move {
                let _flag = flag;
                sleep(1_000).await;
            })
            .detach();
        }
    });
    assert_eq!(lp.live_tasks(), 10);
    drop(lp);
    assert_eq!(dropped.get(), 10);
}

/// A future completed by another thread through a cloned `Waker`.
struct ThreadDone {
    state: Arc<Mutex<(bool, Option<Waker>)>>,
}

impl Future for ThreadDone {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.state.lock().unwrap();
        if s.0 {
            return Poll::Ready(());
        }
        s.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_waker_cloned_to_another_thread_wakes_the_task_and_keeps_the_loop_alive() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let state = Arc::new(Mutex::new((false, None::<Waker>)));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let s = state.clone();
    // Wakes the task when the test says so: by then the task has stored its
    // waker (its first poll ran inside `spawn`).
    let waker_thread = std::thread::spawn(move || {
        go_rx.recv().unwrap();
        let waker = {
            let mut g = s.lock().unwrap();
            g.0 = true;
            g.1.take()
        };
        waker.expect("the task stored its waker").wake();
    });
    let out = Rc::new(Cell::new(None));
    let o = out.clone();
    let s = state.clone();
    lp.enter(move || {
        spawn(async move {
            ThreadDone { state: s }.await;
            o.set(Some("woken from a thread"));
        })
        .detach();
    });
    // Pending, with its waker held outside the loop: the loop stays alive.
    for _ in 0..3 {
        assert!(
            lp.run(evloop::RunMode::NoWait),
            "the loop gave up on the task"
        );
    }
    assert_eq!(out.get(), None);
    go_tx.send(()).unwrap();
    // Waits for the wake, polls the task to the end, and has nothing left.
    assert!(!lp.run(evloop::RunMode::Default));
    waker_thread.join().unwrap();
    assert_eq!(out.get(), Some("woken from a thread"));
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn a_task_nothing_can_wake_does_not_keep_the_loop_alive() {
    let _w = common::watchdog();
    // Like a promise that never settles: Node exits; so does evloop.
    let lp = EventLoop::new().unwrap();
    let (resolver, value) = deferred::<u32>();
    let keep = Rc::new(RefCell::new(Some(resolver)));
    let k = keep.clone();
    lp.run_main(move || {
        spawn(async move {
            let _ = value.await;
            say("never");
        })
        .detach();
        drop(k);
    });
    assert!(take().is_empty());
    assert_eq!(lp.live_tasks(), 1, "still pending");
    // Settling it later wakes it on the next run.
    lp.enter(|| keep.borrow_mut().take().unwrap().resolve(7));
    lp.run(evloop::RunMode::Default);
    assert_eq!(take(), ["never"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn run_async_panics_clearly_when_main_can_never_finish() {
    let _w = common::watchdog();
    let r = std::panic::catch_unwind(|| {
        evloop::run_async(async {
            std::future::pending::<()>().await;
        })
    });
    let payload = r.unwrap_err();
    let msg = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(msg.contains("still pending"), "{msg}");
}

#[test]
fn a_dropped_resolver_breaks_the_promise() {
    let _w = common::watchdog();
    let out = evloop::run_async(async {
        let (resolver, value) = deferred::<u32>();
        set_timeout(5, move || drop(resolver));
        value.await
    });
    assert_eq!(out, Err(evloop::BrokenPromise));
}

#[test]
fn a_panic_in_a_task_follows_the_loop_policy() {
    let _w = common::watchdog();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    let lp = EventLoop::builder()
        .on_uncaught_panic(move |p| s.borrow_mut().push(p.message().unwrap_or("?").to_string()))
        .build()
        .unwrap();
    lp.run_main(|| {
        spawn(async {
            yield_now().await;
            panic!("boom in a task");
        })
        .detach();
        set_timeout(1, || say("loop goes on"));
    });
    assert_eq!(*seen.borrow(), ["boom in a task"]);
    assert_eq!(take(), ["loop goes on"]);
    assert_eq!(lp.live_tasks(), 0);
    // Without a handler it unwinds out of the run.
    let r = std::panic::catch_unwind(|| {
        evloop::run(|| {
            spawn(async {
                yield_now().await;
                panic!("uncaught in a task");
            })
            .detach();
        })
    });
    assert!(r.is_err());
}

#[test]
fn an_error_nobody_awaits_is_reported_with_its_spawn_site() {
    let _w = common::watchdog();
    let reports = Rc::new(RefCell::new(Vec::new()));
    let r = reports.clone();
    virtual_loop().run_main(move || {
        evloop::process::on(evloop::process::UnhandledRejection, move |rejection| {
            r.borrow_mut().push(rejection.clone());
        });
        // Awaited: handled, nothing reported.
        let handled = spawn_fallible(async { Err::<(), _>("handled error") });
        spawn(async move {
            assert!(handled.await.is_err());
        })
        .detach();
        // Detached: reported.
        spawn_fallible(async {
            sleep(5).await;
            Err::<(), _>("nobody listens")
        })
        .detach();
    });
    let reports = reports.borrow();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].reason(), "\"nobody listens\"");
    assert_eq!(reports[0].site().file(), file!());
}

#[test]
fn many_tasks_leave_nothing_behind() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let sum = lp.run_async(async {
        let tasks: Vec<_> = (0..10_000u64)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await;
        }
        sum
    });
    assert_eq!(sum, 10_000 * 9_999 / 2);
    assert_eq!(lp.live_tasks(), 0);
}

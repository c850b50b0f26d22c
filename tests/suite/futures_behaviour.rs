//! The combinators (`join_all`, `try_join_all`, `all_settled`, `race`, `any`,
//! `select`, `join!`, `try_join!`) and the concurrency limiters (`Semaphore`, `limit`,
//! `RateLimiter`, `TokenBucket`): ordering against Node's `Promise.*`,
//! fail-fast timing, cancellation, fairness, and scale.
//!
//! Time-based tests run under virtual time (exact and instant). Sequential vs
//! parallel also runs in real time, where it asserts only an order and lower
//! bounds on the time taken, which hold however busy the machine. Several
//! tests port a script of `tests/node_async` and assert exactly the lines
//! Node printed.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::common;
use crate::common::{say, take_lines as take, virtual_loop};

use evloop::{
    AggregateError, EventLoop, Limit, RateLimiter, Semaphore, Task, TokenBucket, all_settled, any,
    deferred, join_all, limit, race, sleep, spawn, timeout, try_join_all, yield_now,
};

/// A boxed future, to put futures of different types in one list.
type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// `new Promise((resolve, reject) => setTimeout(() => { log(...); settle }, ms))`:
/// the timer starts now, as a promise executor runs at once; the log line is
/// Node's, with `word` "at" or "after".
fn job(
    name: &'static str,
    ms: u64,
    ok: bool,
    word: &'static str,
) -> impl Future<Output = Result<&'static str, String>> + 'static {
    let timer = sleep(ms);
    async move {
        timer.await;
        let verb = if ok { "resolves" } else { "rejects" };
        say(format!("{name} {verb} {word} {ms} ms"));
        if ok {
            Ok(name)
        } else {
            Err(format!("{name} failed"))
        }
    }
}

/// Sleeps `ms`, records "`name` done at `t`" and returns `name`.
async fn timed(name: &'static str, ms: u64) -> &'static str {
    sleep(ms).await;
    say(format!("{name} done at {}", evloop::now()));
    name
}

/// Sleeps `ms`, records it, then succeeds or fails.
async fn timed_result(name: &'static str, ms: u64, ok: bool) -> Result<&'static str, String> {
    sleep(ms).await;
    say(format!(
        "{name} {} at {}",
        if ok { "ok" } else { "err" },
        evloop::now()
    ));
    if ok {
        Ok(name)
    } else {
        Err(format!("{name} failed"))
    }
}

// ---------------------------------------------------------------------------
// join_all / try_join_all / all_settled / race / any

#[test]
fn join_all_outputs_in_input_order_and_completes_with_the_last() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (names, at) = lp.run_async(async {
        let names = join_all([timed("a", 30), timed("b", 10), timed("c", 20)]).await;
        (names, evloop::now())
    });
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(take(), ["b done at 10", "c done at 20", "a done at 30"]);
    assert_eq!(at, 30);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn node_promise_all_input_order() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let all = spawn(async {
            let results = join_all([
                job("a", 150, true, "at"),
                job("b", 50, true, "at"),
                job("c", 100, true, "at"),
            ])
            .await;
            let names: Vec<_> = results.into_iter().map(Result::unwrap).collect();
            say(format!("all: {}", names.join(",")));
        });
        say("main end");
        all.await;
    });
    assert_eq!(
        take(),
        [
            "main end",
            "b resolves at 50 ms",
            "c resolves at 100 ms",
            "a resolves at 150 ms",
            "all: a,b,c"
        ]
    );
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn try_join_all_succeeds_with_values_in_input_order() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (r, at) = lp.run_async(async {
        let r = try_join_all([
            timed_result("a", 30, true),
            timed_result("b", 10, true),
            timed_result("c", 20, true),
        ])
        .await;
        (r, evloop::now())
    });
    assert_eq!(r, Ok(vec!["a", "b", "c"]));
    assert_eq!(at, 30);
    assert_eq!(take(), ["b ok at 10", "c ok at 20", "a ok at 30"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn try_join_all_fails_fast_and_cancels_the_others() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (r, at) = lp.run_async(async {
        let r = try_join_all([
            timed_result("slow ok", 1000, true),
            timed_result("fails", 100, false),
        ])
        .await;
        (r, evloop::now())
    });
    assert_eq!(r, Err("fails failed".to_string()));
    assert_eq!(at, 100, "resolved at the failure, not at 1 s");
    // The 1 s input was dropped: its timer was cleared, so the loop ended at
    // 100 ms and it never logged.
    assert_eq!(take(), ["fails err at 100"]);
    assert_eq!(lp.now(), 100);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn try_join_all_mixed_times_fails_at_the_first_error_in_time() {
    let _w = common::watchdog();
    // Input order a(30, err), b(10, ok), c(20, err): c fails first in time.
    let lp = virtual_loop();
    let (r, at) = lp.run_async(async {
        let r = try_join_all([
            timed_result("a", 30, false),
            timed_result("b", 10, true),
            timed_result("c", 20, false),
        ])
        .await;
        (r, evloop::now())
    });
    assert_eq!(r, Err("c failed".to_string()));
    assert_eq!(at, 20);
    assert_eq!(take(), ["b ok at 10", "c err at 20"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn try_join_all_polls_every_input_before_failing_and_takes_the_earliest_error() {
    let _w = common::watchdog();
    // Both fail at once (at their first poll): the earliest input's error
    // wins, and the third input was still started, as JS starts every promise.
    let lp = virtual_loop();
    let r = lp.run_async(async {
        let started = Rc::new(Cell::new(0));
        let inputs = (0..3).map(|i| {
            let started = started.clone();
            async move {
                started.set(started.get() + 1);
                if i < 2 { Err(i) } else { Ok(i) }
            }
        });
        let r = try_join_all(inputs).await;
        assert_eq!(started.get(), 3);
        r
    });
    assert_eq!(r, Err(0));
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn node_promise_all_fail_fast_with_tasks_that_run_on() {
    let _w = common::watchdog();
    // Spawned inputs are detached when try_join_all fails: they run on, as
    // JS promises do.
    let lp = virtual_loop();
    lp.run_async(async {
        let main = spawn(async {
            let inputs = [
                spawn(job("a", 150, true, "at")),
                spawn(job("b", 50, true, "at")),
                spawn(job("c", 100, false, "at")),
            ];
            match try_join_all(inputs).await {
                Ok(_) => say("all resolved (must not happen)"),
                Err(e) => say(format!("all rejected: {e}")),
            }
        });
        say("main end");
        main.await;
    });
    assert_eq!(
        take(),
        [
            "main end",
            "b resolves at 50 ms",
            "c rejects at 100 ms",
            "all rejected: c failed",
            "a resolves at 150 ms"
        ]
    );
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn node_promise_all_settled() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let main = spawn(async {
            let outcomes = all_settled([
                job("a", 150, true, "at"),
                job("b", 50, false, "at"),
                job("c", 100, true, "at"),
            ])
            .await;
            for o in outcomes {
                match o {
                    Ok(v) => say(format!("fulfilled: {v}")),
                    Err(e) => say(format!("rejected: {e}")),
                }
            }
        });
        say("main end");
        main.await;
    });
    assert_eq!(
        take(),
        [
            "main end",
            "b rejects at 50 ms",
            "c resolves at 100 ms",
            "a resolves at 150 ms",
            "fulfilled: a",
            "rejected: b failed",
            "fulfilled: c"
        ]
    );
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn all_settled_waits_for_every_input_and_never_fails() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (outcomes, at) = lp.run_async(async {
        let o = all_settled([
            timed_result("a", 30, false),
            timed_result("b", 10, true),
            timed_result("c", 20, false),
        ])
        .await;
        (o, evloop::now())
    });
    assert_eq!(
        outcomes,
        [
            Err("a failed".to_string()),
            Ok("b"),
            Err("c failed".to_string())
        ]
    );
    assert_eq!(at, 30);
    assert_eq!(take(), ["b ok at 10", "c err at 20", "a err at 30"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn race_returns_the_first_to_complete_ok_or_err() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let first = race([timed("a", 30), timed("b", 10), timed("c", 20)]).await;
        assert_eq!(first, "b");
        assert_eq!(evloop::now(), 10);
        // A rejection that comes first wins too.
        let first = race([
            timed_result("d", 30, true),
            timed_result("e", 10, false),
            timed_result("f", 20, true),
        ])
        .await;
        assert_eq!(first, Err("e failed".to_string()));
        assert_eq!(evloop::now(), 20);
    });
    // The losers were cancelled (dropped): they never logged.
    assert_eq!(take(), ["b done at 10", "e err at 20"]);
    assert_eq!(lp.now(), 20);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn race_ties_go_to_the_earliest_input() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        // All complete at the first poll.
        assert_eq!(race([1, 2, 3].map(std::future::ready)).await, 1);
        // Two ready at the first poll, the first input pending.
        let inputs: Vec<BoxFuture<u32>> = vec![
            Box::pin(async {
                sleep(5).await;
                0
            }),
            Box::pin(async { 1 }),
            Box::pin(async { 2 }),
        ];
        assert_eq!(race(inputs).await, 1);
        // Same deadline: the timer created first fires first.
        assert_eq!(race([timed("x", 10), timed("y", 10)]).await, "x");
    });
    take();
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn node_promise_race_with_tasks_that_run_on() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let main = spawn(async {
            let winner = race([
                spawn(job("a", 300, true, "after")),
                spawn(job("b", 50, true, "after")),
                spawn(job("c", 150, false, "after")),
            ])
            .await;
            say(format!("race 1 winner: {}", winner.unwrap()));
            let second = race([
                spawn(job("d", 150, true, "after")),
                spawn(job("e", 50, false, "after")),
            ])
            .await;
            if let Err(e) = second {
                say(format!("race 2 rejected: {e}"));
            }
        });
        say("main end");
        main.await;
    });
    assert_eq!(
        take(),
        [
            "main end",
            "b resolves after 50 ms",
            "race 1 winner: b",
            "e rejects after 50 ms",
            "race 2 rejected: e failed",
            "c rejects after 150 ms",
            "d resolves after 150 ms",
            "a resolves after 300 ms"
        ]
    );
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn any_returns_the_first_ok() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (r, at) = lp.run_async(async {
        let r = any([
            timed_result("a", 30, true),
            timed_result("b", 10, false),
            timed_result("c", 20, true),
        ])
        .await;
        (r, evloop::now())
    });
    assert_eq!(r, Ok("c"));
    assert_eq!(at, 20);
    assert_eq!(take(), ["b err at 10", "c ok at 20"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn any_with_every_input_failing_gives_every_error_in_input_order() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (r, at) = lp.run_async(async {
        let r = any([
            timed_result("a", 30, false),
            timed_result("b", 10, false),
            timed_result("c", 20, false),
        ])
        .await;
        (r, evloop::now())
    });
    let err: AggregateError<String> = r.unwrap_err();
    assert_eq!(err.errors(), ["a failed", "b failed", "c failed"]);
    assert_eq!(err.to_string(), "all 3 futures failed");
    assert_eq!(at, 30);
    assert_eq!(take(), ["b err at 10", "c err at 20", "a err at 30"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn node_promise_any_all_reject() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let main = spawn(async {
            let r = any([
                job("a", 150, false, "at"),
                job("b", 50, false, "at"),
                job("c", 100, false, "at"),
            ])
            .await;
            if let Err(err) = r {
                say("any rejected: AggregateError");
                say(format!("errors: {}", err.into_errors().join(", ")));
            }
        });
        say("main end");
        main.await;
    });
    assert_eq!(
        take(),
        [
            "main end",
            "b rejects at 50 ms",
            "c rejects at 100 ms",
            "a rejects at 150 ms",
            "any rejected: AggregateError",
            "errors: a failed, b failed, c failed"
        ]
    );
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn node_promise_any_first_fulfilled_with_tasks_that_run_on() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let main = spawn(async {
            let winner = any([
                spawn(job("a", 150, true, "at")),
                spawn(job("b", 50, false, "at")),
                spawn(job("c", 100, true, "at")),
            ])
            .await;
            say(format!("any: {}", winner.unwrap()));
        });
        say("main end");
        main.await;
    });
    assert_eq!(
        take(),
        [
            "main end",
            "b rejects at 50 ms",
            "c resolves at 100 ms",
            "any: c",
            "a resolves at 150 ms"
        ]
    );
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn empty_inputs_behave_like_their_promise_counterparts() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        // Promise.all([]) and allSettled([]) fulfil with [].
        assert!(
            join_all(Vec::<std::future::Ready<u8>>::new())
                .await
                .is_empty()
        );
        let r = try_join_all(Vec::<std::future::Ready<Result<u8, ()>>>::new()).await;
        assert_eq!(r, Ok(vec![]));
        assert!(
            all_settled(Vec::<std::future::Ready<Result<u8, ()>>>::new())
                .await
                .is_empty()
        );
        // Promise.any([]) rejects with an empty AggregateError.
        let r = any(Vec::<std::future::Ready<Result<u8, ()>>>::new()).await;
        assert!(r.unwrap_err().errors().is_empty());
    });
    // Promise.race([]) never settles, and does not keep the loop alive.
    let task = lp.enter(|| spawn(race(Vec::<std::future::Ready<u8>>::new())));
    assert!(!lp.run(evloop::RunMode::Default));
    assert_eq!(lp.live_tasks(), 1);
    lp.enter(|| task.abort());
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn awaits_inside_join_all_interleave_as_in_node() {
    let _w = common::watchdog();
    // JS (Node prints: main end, a1, b1, a2, all: a,b):
    //   (async () => {
    //     const r = await Promise.all([
    //       (async () => { await null; log('a1'); await null; log('a2'); return 'a'; })(),
    //       (async () => { await null; log('b1'); return 'b'; })(),
    //     ]);
    //     log('all: ' + r.join(','));
    //   })();
    //   log('main end');
    let lp = EventLoop::new().unwrap();
    lp.run_async(async {
        let main = spawn(async {
            let a: BoxFuture<&str> = Box::pin(async {
                yield_now().await;
                say("a1");
                yield_now().await;
                say("a2");
                "a"
            });
            let b: BoxFuture<&str> = Box::pin(async {
                yield_now().await;
                say("b1");
                "b"
            });
            let r = join_all([a, b]).await;
            say(format!("all: {}", r.join(",")));
        });
        say("main end");
        main.await;
    });
    assert_eq!(take(), ["main end", "a1", "b1", "a2", "all: a,b"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn dropping_a_combinator_cancels_its_inputs() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let r =
        lp.run_async(async { timeout(10, join_all([timed("a", 1000), timed("b", 2000)])).await });
    assert!(r.is_err());
    assert!(take().is_empty());
    // Both timers were cleared with the inputs: the loop ended at 10 ms.
    assert_eq!(lp.now(), 10);
    assert_eq!(lp.live_tasks(), 0);
}

// ---------------------------------------------------------------------------
// join! and try_join!

#[test]
fn join_macro_gives_a_tuple_of_different_types_in_argument_order() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (n, s, v, (), at) = lp.run_async(async {
        let (n, s, v, unit) = evloop::join!(
            async {
                sleep(30).await;
                say("n");
                7u32
            },
            async {
                sleep(10).await;
                say("s");
                "text"
            },
            async {
                sleep(20).await;
                say("v");
                vec![1u8, 2]
            },
            sleep(5),
        );
        (n, s, v, unit, evloop::now())
    });
    assert_eq!((n, s, v), (7, "text", vec![1, 2]));
    assert_eq!(at, 30);
    assert_eq!(take(), ["s", "v", "n"]);
    // One argument, and a trailing comma.
    let one = lp.run_async(async { evloop::join!(async { 1 },) });
    assert_eq!(one, (1,));
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn try_join_macro_succeeds_or_fails_fast() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let ok = lp.run_async(async {
        evloop::try_join!(timed_result("a", 20, true), async {
            sleep(10).await;
            Ok::<u64, String>(evloop::now())
        })
    });
    assert_eq!(ok, Ok(("a", 10)));
    take();
    assert_eq!(lp.live_tasks(), 0);

    let lp = virtual_loop();
    let (r, at) = lp.run_async(async {
        let start = evloop::now();
        let r: Result<(u8, &str, ()), String> = evloop::try_join!(
            async {
                sleep(1000).await;
                say("slow finished");
                Ok(1u8)
            },
            timed_result("fails", 100, false),
            async { Ok(()) },
        );
        (r, evloop::now() - start)
    });
    assert_eq!(r, Err("fails failed".to_string()));
    assert_eq!(at, 100, "failed at 100 ms, not 1 s");
    assert_eq!(take(), ["fails err at 100"], "the slow one was cancelled");
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn join_macro_polls_only_woken_futures() {
    let _w = common::watchdog();
    // A `yield_now` polled again without being woken would return early;
    // with one waker per argument, each runs exactly as awaited alone.
    let lp = EventLoop::new().unwrap();
    lp.run_async(async {
        let (a, b) = evloop::join!(
            async {
                for i in 0..3 {
                    yield_now().await;
                    say(format!("a{i}"));
                }
                "a"
            },
            async {
                let (resolver, value) = deferred();
                evloop::set_timeout(1, move || resolver.resolve("b"));
                value.await.unwrap()
            },
        );
        assert_eq!((a, b), ("a", "b"));
    });
    assert_eq!(take(), ["a0", "a1", "a2"]);
    assert_eq!(lp.live_tasks(), 0);
}

// ---------------------------------------------------------------------------
// Sequential vs parallel, on virtual and on real time.

/// Three 300 ms sleeps one after another, then three at once. Returns when
/// each started and ended, in order, and the loop time each group took.
async fn sequential_then_parallel() -> (Vec<String>, u64, u64) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let nap = |name: String| {
        let log = log.clone();
        async move {
            log.borrow_mut().push(format!("{name} start"));
            sleep(300).await;
            log.borrow_mut().push(format!("{name} end"));
        }
    };
    let t0 = evloop::now();
    for i in 0..3 {
        nap(format!("seq{i}")).await;
    }
    let t1 = evloop::now();
    join_all((0..3).map(|i| nap(format!("par{i}")))).await;
    let t2 = evloop::now();
    (log.take(), t1 - t0, t2 - t1)
}

/// [`sequential_then_parallel`]'s order: each sequential sleep starts when
/// the last one ended, and every parallel one starts before the first ends.
const SLEEPS: [&str; 12] = [
    "seq0 start",
    "seq0 end",
    "seq1 start",
    "seq1 end",
    "seq2 start",
    "seq2 end",
    "par0 start",
    "par1 start",
    "par2 start",
    "par0 end",
    "par1 end",
    "par2 end",
];

#[test]
fn sequential_sleeps_add_up_parallel_ones_overlap() {
    let _w = common::watchdog();
    // Virtual time: exactly 3 × 300 ms, then 300 ms.
    let lp = virtual_loop();
    let (log, sequential, parallel) = lp.run_async(sequential_then_parallel());
    assert_eq!(log, SLEEPS);
    assert_eq!((sequential, parallel), (900, 300));
    assert_eq!(lp.live_tasks(), 0);
    // Real time, where a busy machine can make any sleep longer: the same
    // order, and only lower bounds (a timer never fires before its
    // deadline, which counts from the loop time it was set at).
    let lp = EventLoop::new().unwrap();
    let (log, sequential, parallel) = lp.run_async(sequential_then_parallel());
    assert_eq!(log, SLEEPS);
    assert!(sequential >= 900, "{sequential} ms");
    assert!(parallel >= 300, "{parallel} ms");
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn node_sequential_vs_parallel() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let seq = spawn(async {
            for step in 1..=3 {
                sleep(100).await;
                say(format!("sequential: step {step} done"));
            }
            say("sequential: all done");
        });
        let par = spawn(async {
            join_all(["a", "b", "c"].map(|name| async move {
                sleep(100).await;
                say(format!("parallel: {name} done"));
            }))
            .await;
            say("parallel: all done");
        });
        say("main end");
        join_all([seq, par]).await;
    });
    assert_eq!(
        take(),
        [
            "main end",
            "sequential: step 1 done",
            "parallel: a done",
            "parallel: b done",
            "parallel: c done",
            "parallel: all done",
            "sequential: step 2 done",
            "sequential: step 3 done",
            "sequential: all done"
        ]
    );
    assert_eq!(lp.now(), 300);
    assert_eq!(lp.live_tasks(), 0);
}

// ---------------------------------------------------------------------------
// limit (p-limit)

/// Runs `durations.len()` jobs through `lim`; returns (start order, most
/// jobs in flight at once, results).
fn run_limited(lp: &EventLoop, lim: Limit, durations: &[u64]) -> (Vec<usize>, usize, Vec<usize>) {
    let durations = durations.to_vec();
    lp.run_async(async move {
        let in_flight = Rc::new(Cell::new(0usize));
        let most = Rc::new(Cell::new(0usize));
        let starts = Rc::new(RefCell::new(Vec::new()));
        let jobs = durations.iter().enumerate().map(|(i, &ms)| {
            let (in_flight, most, starts, l) =
                (in_flight.clone(), most.clone(), starts.clone(), lim.clone());
            lim.run(async move {
                in_flight.set(in_flight.get() + 1);
                most.set(most.get().max(in_flight.get()));
                assert!(l.active_count() <= l.concurrency());
                starts.borrow_mut().push(i);
                sleep(ms).await;
                in_flight.set(in_flight.get() - 1);
                i
            })
        });
        let results = join_all(jobs).await;
        assert_eq!(lim.active_count(), 0);
        assert_eq!(lim.pending_count(), 0);
        let starts = starts.borrow().clone();
        (starts, most.get(), results)
    })
}

#[test]
fn limit_2_over_6_jobs_never_exceeds_2_and_starts_in_fifo_order() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (starts, most, results) = run_limited(&lp, limit(2), &[30, 10, 50, 20, 10, 40]);
    assert_eq!(starts, [0, 1, 2, 3, 4, 5]);
    assert_eq!(most, 2);
    assert_eq!(results, [0, 1, 2, 3, 4, 5]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn limit_3_over_7_jobs_never_exceeds_3_and_starts_in_fifo_order() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (starts, most, results) = run_limited(&lp, limit(3), &[70, 10, 30, 10, 60, 20, 10]);
    assert_eq!(starts, [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(most, 3);
    assert_eq!(results, [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn limit_counts_active_and_pending_jobs() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let lim = limit(2);
        let jobs = (0..5).map(|i| lim.run(timed(["j0", "j1", "j2", "j3", "j4"][i], 10)));
        let all = spawn(join_all(jobs));
        // The first poll (inside spawn) started 2 jobs and lined up 3.
        assert_eq!((lim.active_count(), lim.pending_count()), (2, 3));
        sleep(15).await;
        assert_eq!((lim.active_count(), lim.pending_count()), (2, 1));
        // A cancelled waiting job leaves the line.
        let extra = spawn(lim.run(async { say("never") }));
        assert_eq!(lim.pending_count(), 2);
        extra.abort();
        assert_eq!(lim.pending_count(), 1);
        all.await;
        assert_eq!((lim.active_count(), lim.pending_count()), (0, 0));
    });
    assert!(!take().contains(&"never".to_string()));
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn node_p_limit_limiter() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let run = limit(2);
        let jobs = [
            ("j1", 200),
            ("j2", 50),
            ("j3", 400),
            ("j4", 50),
            ("j5", 100),
        ]
        .map(|(name, ms)| {
            run.run(async move {
                say(format!("start {name}"));
                sleep(ms).await;
                say(format!("end {name}"));
                name
            })
        });
        let r = join_all(jobs).await;
        say(format!("results: {}", r.join(",")));
    });
    assert_eq!(
        take(),
        [
            "start j1",
            "start j2",
            "end j2",
            "start j3",
            "end j1",
            "start j4",
            "end j4",
            "start j5",
            "end j5",
            "end j3",
            "results: j1,j2,j3,j4,j5"
        ]
    );
    assert_eq!(lp.live_tasks(), 0);
}

// ---------------------------------------------------------------------------
// Rate limiting

/// Whether no window `[s, s + window)` holds more than `max` of `starts`.
fn most_in_any_window(starts: &[u64], window: u64) -> usize {
    starts
        .iter()
        .map(|&s| starts.iter().filter(|&&t| t >= s && t < s + window).count())
        .max()
        .unwrap_or(0)
}

#[test]
fn rate_limiter_5_per_second_over_20_jobs() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let starts = lp.run_async(async {
        let limiter = RateLimiter::new(5, Duration::from_secs(1));
        let jobs = (0..20).map(|i| {
            let limiter = limiter.clone();
            async move {
                limiter.acquire().await;
                say(format!("start {i}"));
                evloop::now()
            }
        });
        join_all(jobs).await
    });
    let mut expected = Vec::new();
    for second in 0..4u64 {
        expected.extend([second * 1000; 5]);
    }
    assert_eq!(starts, expected, "windows of 5, 5, 5, 5");
    // FIFO: jobs started in the order they asked.
    let order: Vec<String> = (0..20).map(|i| format!("start {i}")).collect();
    assert_eq!(take(), order);
    assert_eq!(most_in_any_window(&starts, 1000), 5);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn rate_limiter_window_slides_with_the_oldest_start() {
    let _w = common::watchdog();
    // Starts spread out: each new start waits for the start 3 places before
    // it to leave the window, never for a fixed window boundary.
    let lp = virtual_loop();
    let starts = lp.run_async(async {
        let limiter = RateLimiter::new(3, Duration::from_millis(100));
        let mut starts = Vec::new();
        for delay in [0, 30, 30, 0, 0, 50, 0] {
            sleep(delay.max(1)).await;
            limiter.acquire().await;
            starts.push(evloop::now());
        }
        // 131, 181 and 201 are in the window: full.
        assert!(!limiter.try_acquire());
        starts
    });
    // 1, 31 and 61 start at once; at 62 the next waits for 1 to leave the
    // window (101), at 102 the next for 31 (131); after a 50 ms pause, 181
    // has room (61 left at 161); at 182 the next waits for 101 (201).
    assert_eq!(starts, [1, 31, 61, 101, 131, 181, 201]);
    assert!(most_in_any_window(&starts, 100) <= 3);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn rate_limiter_cancelled_waiter_leaves_the_line() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let starts = lp.run_async(async {
        let limiter = RateLimiter::new(1, Duration::from_millis(100));
        limiter.acquire().await; // at 0
        // The first in line gives up at 50 ms; the next must take over.
        let quitter = timeout(50, limiter.acquire());
        let l = limiter.clone();
        let next = spawn(async move {
            l.acquire().await;
            evloop::now()
        });
        assert!(quitter.await.is_err());
        vec![next.await]
    });
    assert_eq!(starts, [100]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn token_bucket_bursts_then_refills_at_its_rate() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let starts = lp.run_async(async {
        let bucket = TokenBucket::new(5, 5.0);
        let jobs = (0..20).map(|i| {
            let bucket = bucket.clone();
            async move {
                bucket.acquire().await;
                say(format!("start {i}"));
                evloop::now()
            }
        });
        join_all(jobs).await
    });
    // A burst of 5 at 0, then one every 200 ms.
    let mut expected = vec![0; 5];
    expected.extend((1..=15).map(|k| k * 200));
    assert_eq!(starts, expected);
    let order: Vec<String> = (0..20).map(|i| format!("start {i}")).collect();
    assert_eq!(take(), order);
    // Never more than capacity + window × rate in any window.
    for window in [100, 200, 500, 1000, 2000] {
        let bound = 5 + (window * 5 / 1000) as usize;
        assert!(
            most_in_any_window(&starts, window) <= bound,
            "window {window}"
        );
    }
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn token_bucket_refills_while_idle_up_to_capacity() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let starts = lp.run_async(async {
        let bucket = TokenBucket::new(3, 10.0); // a token every 100 ms
        let mut starts = Vec::new();
        for _ in 0..3 {
            bucket.acquire().await;
        }
        assert!(!bucket.try_acquire());
        sleep(10_000).await; // long idle: refills to 3, not 100
        for _ in 0..5 {
            bucket.acquire().await;
            starts.push(evloop::now());
        }
        starts
    });
    assert_eq!(starts, [10_000, 10_000, 10_000, 10_100, 10_200]);
    assert_eq!(lp.live_tasks(), 0);
}

// ---------------------------------------------------------------------------
// Semaphore

#[test]
fn semaphore_serves_waiters_in_fifo_order() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let sem = Semaphore::new(2);
        let tasks: Vec<Task<()>> = (0..6)
            .map(|i| {
                let sem = sem.clone();
                spawn(async move {
                    let _permit = sem.acquire().await;
                    say(format!("got {i}"));
                    // Later arrivals finish sooner: order of release is not
                    // order of arrival, the grant order still is.
                    sleep(60 - 10 * i).await;
                })
            })
            .collect();
        assert_eq!((sem.available_permits(), sem.waiting()), (0, 4));
        join_all(tasks).await;
        assert_eq!((sem.available_permits(), sem.waiting()), (2, 0));
    });
    assert_eq!(
        take(),
        ["got 0", "got 1", "got 2", "got 3", "got 4", "got 5"]
    );
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn semaphore_newcomer_never_overtakes_a_waiter() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let sem = Semaphore::new(1);
        let held = sem.acquire().await;
        let s = sem.clone();
        let a = spawn(async move {
            let _p = s.acquire().await;
            say("a");
        });
        // Released: handed to `a`, which has not run yet. A newcomer must
        // not take it.
        drop(held);
        assert!(sem.try_acquire().is_none());
        assert_eq!(sem.available_permits(), 0);
        let s = sem.clone();
        let b = spawn(async move {
            let _p = s.acquire().await;
            say("b");
        });
        join_all([a, b]).await;
        assert_eq!(sem.available_permits(), 1);
        // Free and nobody waiting: try_acquire works, and the permit is
        // released on drop.
        let p = sem.try_acquire().expect("free");
        assert_eq!(sem.available_permits(), 0);
        drop(p);
        assert_eq!(sem.available_permits(), 1);
    });
    assert_eq!(take(), ["a", "b"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn semaphore_cancelled_waiter_neither_leaks_nor_steals_a_permit() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let sem = Semaphore::new(1);
        let held = sem.acquire().await;
        // 1. A waiter that gives up before being served leaves the line.
        assert!(timeout(10, sem.acquire()).await.is_err());
        assert_eq!(sem.waiting(), 0);

        // 2. A waiter served but dropped before it saw its permit passes it
        //    on to the next in line.
        let mut a = Box::pin(sem.acquire());
        std::future::poll_fn(|cx| {
            assert!(a.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        let s = sem.clone();
        let b = spawn(async move {
            let _p = s.acquire().await;
            say("b got it");
        });
        assert_eq!(sem.waiting(), 2);
        drop(held); // handed to `a`
        assert_eq!((sem.available_permits(), sem.waiting()), (0, 1));
        drop(a); // `a` never saw it: on to `b`
        assert_eq!((sem.available_permits(), sem.waiting()), (0, 0));
        b.await;
        assert_eq!(sem.available_permits(), 1);

        // 3. Same with nobody else waiting: the permit goes back.
        let held = sem.acquire().await;
        let mut c = Box::pin(sem.acquire());
        std::future::poll_fn(|cx| {
            assert!(c.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        drop(held);
        drop(c);
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.try_acquire().is_some());
        // `drop(held)` woke this very task (the waiter of `c`) while it
        // runs; finishing in the same poll trips an executor bug (see
        // `executor_task_woken_during_its_last_poll`), so wait once more.
        sleep(1).await;
    });
    assert_eq!(take(), ["b got it"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn semaphore_with_zero_permits_waits_for_add_permits() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let sem = Semaphore::new(0);
        let s = sem.clone();
        let waiter = spawn(async move {
            let _p = s.acquire().await;
            evloop::now()
        });
        sleep(25).await;
        sem.add_permits(1);
        assert_eq!(waiter.await, 25);
        assert_eq!(sem.available_permits(), 1);
    });
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn try_join_all_over_limited_jobs_fails_fast_and_frees_the_slots() {
    let _w = common::watchdog();
    // The failing job's slot goes to the next job, which is then cancelled
    // with the rest.
    let lp = virtual_loop();
    let lim = limit(1);
    let l = lim.clone();
    let (r, at) = lp.run_async(async move {
        let jobs: Vec<BoxFuture<Result<u32, String>>> = vec![
            Box::pin(l.run(async {
                sleep(10).await;
                Err("first failed".to_string())
            })),
            Box::pin(l.run(async {
                say("second started");
                sleep(10).await;
                Ok(2)
            })),
            Box::pin(l.run(async { Ok(3) })),
        ];
        let r = try_join_all(jobs).await;
        (r, evloop::now())
    });
    assert_eq!(r, Err("first failed".to_string()));
    assert_eq!(at, 10);
    assert!(take().is_empty(), "the second job never started");
    assert_eq!((lim.active_count(), lim.pending_count()), (0, 0));
    assert_eq!(lp.live_tasks(), 0);
}

// ---------------------------------------------------------------------------
// Scale, wakers, liveness

#[test]
fn join_all_over_100_000_yields_completes() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let n = lp.run_async(async { join_all((0..100_000).map(|_| yield_now())).await.len() });
    assert_eq!(n, 100_000);
    assert_eq!(lp.live_tasks(), 0);
}

/// A scale check: 1,000,000 inputs in a release build, 50,000 in a debug
/// one (so `cargo test` stays quick), both through timers and yields.
#[test]
fn join_all_over_many_timers_and_yields() {
    let _w = common::watchdog();
    const N: u64 = if cfg!(debug_assertions) {
        50_000
    } else {
        1_000_000
    };
    let lp = virtual_loop();
    let start = Instant::now();
    let n = lp.run_async(async {
        let v = join_all((0..N).map(|i| async move {
            yield_now().await;
            sleep(1 + i % 1000).await;
            i
        }))
        .await;
        v.len()
    });
    assert_eq!(n as u64, N);
    eprintln!("{N} children: {:?}", start.elapsed());
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn nested_combinators_wake_through_each_other() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    let (lists, first, at) = lp.run_async(async {
        let inner = |base: u64| {
            join_all((0..3).map(move |i| async move {
                yield_now().await;
                sleep(10 * i + base + 1).await;
                i + base
            }))
        };
        let (lists, first) = evloop::join!(
            join_all([inner(0), inner(100)]),
            race([timed("x", 50), timed("y", 5)]),
        );
        (lists, first, evloop::now())
    });
    assert_eq!(lists, [vec![0, 1, 2], vec![100, 101, 102]]);
    assert_eq!(first, "y");
    assert_eq!(at, 121);
    assert_eq!(take(), ["y done at 5"]);
    assert_eq!(lp.live_tasks(), 0);
}

/// Counts its polls, then defers to the inner future.
struct Counted<F> {
    polls: Rc<Cell<usize>>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

#[test]
fn only_woken_children_are_polled_again() {
    let _w = common::watchdog();
    // 10,000 children, settled one per timer: each is polled exactly twice
    // (its first poll, and once when its own promise settles), so the work
    // per wake-up does not grow with the number of children.
    const N: usize = 10_000;
    let lp = virtual_loop();
    let polls = Rc::new(Cell::new(0));
    let p = polls.clone();
    let sum = lp.run_async(async move {
        let mut resolvers = Vec::new();
        let children: Vec<_> = (0..N)
            .map(|i| {
                let (r, value) = deferred::<usize>();
                resolvers.push((i, r));
                Counted {
                    polls: p.clone(),
                    inner: Box::pin(value),
                }
            })
            .collect();
        for (i, r) in resolvers {
            evloop::set_timeout(1 + i as u64 % 50, move || r.resolve(i));
        }
        join_all(children)
            .await
            .into_iter()
            .map(Result::unwrap)
            .sum::<usize>()
    });
    assert_eq!(sum, N * (N - 1) / 2);
    // A settled `Deferred` needs one more poll to deliver its value.
    assert_eq!(polls.get(), 2 * N);
    assert_eq!(lp.live_tasks(), 0);
}

/// A future completed by another thread, which wakes the stored waker.
struct ThreadDone {
    state: Arc<Mutex<(bool, Option<Waker>)>>,
}

impl Future for ThreadDone {
    type Output = &'static str;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        let mut s = self.state.lock().unwrap();
        if s.0 {
            return Poll::Ready("thread");
        }
        s.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_child_woken_from_another_thread_wakes_the_combinator() {
    let _w = common::watchdog();
    // The other child is a 5 s timer, which must not win however slowly the
    // thread runs: on virtual time the loop holds its clock while a pool job
    // is in flight (it waits for it in real time), and the job below ends
    // only after the thread has woken its child.
    let lp = virtual_loop();
    let (winner, at) = lp.run_async(async {
        let state = Arc::new(Mutex::new((false, None::<Waker>)));
        let s = state.clone();
        let (go, go_rx) = mpsc::channel::<()>();
        let (woke, woke_rx) = mpsc::channel::<()>();
        let worker = thread::spawn(move || {
            // Sent once the combinator has polled both children and waits.
            go_rx.recv().unwrap();
            let waker = {
                let mut g = s.lock().unwrap();
                g.0 = true;
                g.1.take()
            };
            waker.expect("the child stored its waker").wake();
            woke.send(()).unwrap();
        });
        let _gate = evloop::queue_work(
            move || woke_rx.recv().is_ok(),
            |r| assert!(r.unwrap(), "the thread failed before it woke the child"),
        );
        // Runs in the check phase, after this task's poll below.
        let _ = evloop::set_immediate(move || go.send(()).unwrap());
        let children: Vec<BoxFuture<&str>> = vec![
            Box::pin(async {
                sleep(5000).await;
                "timer"
            }),
            Box::pin(ThreadDone { state }),
        ];
        let winner = race(children).await;
        worker.join().unwrap();
        (winner, evloop::now())
    });
    assert_eq!(winner, "thread");
    assert_eq!(at, 0, "the virtual clock stood still");
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn a_combinator_waiting_on_nothing_does_not_keep_the_loop_alive() {
    // As a task awaiting a promise that never settles: Node exits, and so
    // does evloop, whether the task awaits it directly or through join_all.
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let (resolver, value) = deferred::<u32>();
    lp.run_main(move || {
        spawn(async move {
            let v = join_all([value]).await;
            say(format!("settled with {:?}", v[0]));
        })
        .detach();
    });
    assert!(take().is_empty());
    assert_eq!(lp.live_tasks(), 1, "still pending");
    // Settling it later wakes it on the next run.
    lp.enter(|| resolver.resolve(7));
    lp.run(evloop::RunMode::Default);
    assert_eq!(take(), ["settled with Ok(7)"]);
    assert_eq!(lp.live_tasks(), 0);
}

// ---------------------------------------------------------------------------
// A bug found while writing these tests, fixed in the executor's task table (src/rt/executor/table.rs).

#[test]
fn executor_task_woken_during_its_last_poll() {
    let _w = common::watchdog();
    // A leaf future (here a Deferred) stores this task's key; resolving it
    // from the same task, in the poll in which the task then finishes,
    // queues a poll of a finished task: `poll_task` polls it again and
    // decrements the pending count a second time ("attempt to subtract with
    // overflow" in debug builds, a wrapped count in release).
    let lp = EventLoop::new().unwrap();
    lp.run_async(async {
        let (resolver, value) = deferred::<()>();
        let mut value = Box::pin(value);
        std::future::poll_fn(|cx| {
            assert!(value.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        resolver.resolve(());
    });
    assert_eq!(lp.live_tasks(), 0);
}

/// A drop guard that logs: a generator body's `finally`.
struct Finally(&'static str);

impl Drop for Finally {
    fn drop(&mut self) {
        say(self.0);
    }
}

#[test]
fn dropping_a_generator_stops_its_body_mid_await() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let mut g = evloop::stream(|co| async move {
            let _finally = Finally("finally");
            co.send(1).await.ok();
            say("resumed");
            sleep(10).await;
            say("after sleep (never)");
            co.send(2).await.ok();
        });
        assert_eq!(g.next().await, Some(1));
        // Asking for the next value resumes the body, which then waits on
        // its timer (the `next()` is given up; the body runs on).
        assert!(futures_poll_once(Box::pin(g.next())).await);
        yield_now().await;
        yield_now().await;
        drop(g);
        say("dropped");
        sleep(20).await;
    });
    assert_eq!(take(), ["resumed", "finally", "dropped"]);
    assert_eq!(lp.live_tasks(), 0);
}

#[test]
fn closing_a_finished_generator_takes_two_ticks() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        let mut g = evloop::stream(|co| async move {
            co.send(1).await.ok();
        });
        while g.next().await.is_some() {}
        evloop::queue_microtask(|| {
            say("tick 1");
            evloop::queue_microtask(|| {
                say("tick 2");
                evloop::queue_microtask(|| say("tick 3"));
            });
        });
        g.close().await;
        say("closed");
    });
    assert_eq!(take(), ["tick 1", "tick 2", "closed", "tick 3"]);
}

/// Polls `f` once; `true` if it was still pending (then drops it).
async fn futures_poll_once<F: Future + Unpin>(mut f: F) -> bool {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut f).poll(cx).is_pending())).await
}

#[test]
fn a_panicking_promise_executor_rejects_instead_of_unwinding() {
    let _w = common::watchdog();
    let lp = virtual_loop();
    lp.run_async(async {
        // Plain `promise`: the resolver was dropped unresolved.
        let p = evloop::promise(|_r: evloop::Resolver<u32>| panic!("boom"));
        assert_eq!(p.await, Err(evloop::BrokenPromise));
        // Resolved first: the panic after it is ignored.
        let p = evloop::promise(|r| {
            r.resolve(7);
            panic!("ignored");
        });
        assert_eq!(p.await, Ok(7));
        // `try_promise`: the message is the rejection.
        let p = evloop::try_promise(|_r: evloop::Resolver<Result<u32, evloop::ExecutorPanic>>| {
            panic!("code {}", 42)
        });
        let err = p.await.unwrap().unwrap_err();
        assert_eq!(err.message(), "code 42");
        assert_eq!(err.to_string(), "the promise executor panicked: code 42");
        // A payload that is not a string.
        let p = evloop::try_promise(|_r: evloop::Resolver<Result<u32, String>>| {
            std::panic::panic_any(3_u8)
        });
        assert_eq!(p.await, Ok(Err("<non-string panic>".to_string())));
        // Rejected through the resolver before panicking: that rejection counts.
        let p = evloop::try_promise(|r: evloop::Resolver<Result<u32, String>>| {
            r.resolve(Err("first".into()));
            panic!("ignored");
        });
        assert_eq!(p.await, Ok(Err("first".to_string())));
    });
}

// ---------------------------------------------------------------------------
// select: two futures of different types

/// Sets its flag when dropped: tells that `select` dropped its loser.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn select_returns_the_first_to_complete_and_drops_the_loser_at_once() {
    let _w = common::watchdog();
    let dropped = Rc::new(Cell::new(false));
    let d = dropped.clone();
    let (out, dropped_then) = virtual_loop().run_async(async move {
        let slow = async move {
            let _flag = DropFlag(d);
            sleep(30).await;
            "slow"
        };
        let fast = async {
            sleep(10).await;
            10_u64
        };
        let out = evloop::select(slow, fast).await;
        (out, dropped.get())
    });
    assert_eq!(out, evloop::Either::Right(10));
    assert!(dropped_then, "the loser still ran after select completed");
}

#[test]
fn select_gives_a_tie_in_one_poll_to_the_first_argument() {
    let _w = common::watchdog();
    let out = virtual_loop().run_async(async {
        // One callback settles `b`, then `a`: the task is polled once, with
        // both complete, and `a` (the first argument) wins.
        let (settle_a, a) = deferred::<&str>();
        let (settle_b, b) = deferred::<char>();
        evloop::set_timeout(10, move || {
            settle_b.resolve('b');
            settle_a.resolve("a");
        });
        let tie = evloop::select(a, b).await;
        // Both complete at the first poll.
        let ready = evloop::select(std::future::ready(1), std::future::ready("two")).await;
        // Two timers due at once are no tie: each callback is followed by
        // the microtask drain, so the first to fire wins (as in
        // `Promise.race`).
        let b = sleep(10);
        let a = sleep(10);
        let timers = evloop::select(
            async {
                a.await;
                "a"
            },
            async {
                b.await;
                'b'
            },
        )
        .await;
        (tie, ready, timers)
    });
    assert_eq!(out.0, evloop::Either::Left(Ok("a")));
    assert_eq!(out.1, evloop::Either::Left(1));
    assert_eq!(out.2, evloop::Either::Right('b'));
}

#[test]
#[should_panic(expected = "Select polled after it completed")]
fn select_polled_after_completion_panics_clearly() {
    let _w = common::watchdog();
    let mut s = Box::pin(evloop::select(
        std::future::ready(()),
        std::future::pending::<()>(),
    ));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(s.as_mut().poll(&mut cx).is_ready());
    let _ = s.as_mut().poll(&mut cx);
}

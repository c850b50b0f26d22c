//! Memory that a busy or long run could otherwise grow without end (issue
//! 19, item 6): the cross-thread inbox's limit (`Builder::post_limit`,
//! `LoopHandle::try_post`) and the Chrome trace streamed to its file with a
//! bounded buffer.

use std::sync::{Arc, Mutex};
use std::thread;

use crate::common;

use evloop::{EventLoop, RunMode, TryPostError};

/// A loop that is not running stands for a busy one: nothing drains its
/// inbox until `run`.
#[test]
fn try_post_refuses_past_the_limit_and_accepts_once_the_loop_drained() {
    let _w = common::watchdog();
    let lp = EventLoop::builder().post_limit(3).build().unwrap();
    let handle = lp.handle();
    let ran = Arc::new(Mutex::new(Vec::new()));
    let push = |n: u32| {
        let ran = ran.clone();
        move || ran.lock().unwrap().push(n)
    };
    for n in 0..3 {
        handle.try_post(push(n)).unwrap();
    }
    assert_eq!(lp.snapshot().posts_queued, 3);
    let refused = handle.try_post(push(3)).unwrap_err();
    assert!(refused.is_full() && !refused.is_gone(), "{refused:?}");
    assert!(refused.to_string().contains("inbox is full"), "{refused}");
    // `post` is never refused for a full inbox, and counts toward the limit.
    handle.post(push(4)).unwrap();
    assert_eq!(lp.snapshot().posts_queued, 4);
    // The refused closure comes back unrun, to post again later.
    let again = refused.into_inner().expect("handed back");
    lp.run(RunMode::NoWait);
    assert_eq!(*ran.lock().unwrap(), [0, 1, 2, 4]);
    assert_eq!(lp.snapshot().posts_queued, 0);
    handle.try_post(again).unwrap();
    lp.run(RunMode::NoWait);
    assert_eq!(*ran.lock().unwrap(), [0, 1, 2, 4, 3]);
    // Gone is told apart from full.
    drop(lp);
    let gone = handle.try_post(|| {}).unwrap_err();
    assert!(matches!(gone, TryPostError::Gone), "{gone:?}");
    assert!(gone.to_string().contains("event loop is gone"), "{gone}");
    assert_eq!(evloop::PostError::from(gone), evloop::PostError);
}

#[test]
fn a_post_limit_of_zero_is_invalid_input() {
    let _w = common::watchdog();
    let e = EventLoop::builder().post_limit(0).build().unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("post_limit(0)"), "{e}");
}

#[test]
fn the_default_post_limit_is_documented_and_taken() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    for _ in 0..evloop::DEFAULT_POST_LIMIT {
        handle.try_post(|| {}).unwrap();
    }
    assert!(handle.try_post(|| {}).unwrap_err().is_full());
    lp.run(RunMode::NoWait);
    handle.try_post(|| {}).unwrap();
}

/// Four threads post a burst while the loop is busy (not running): each
/// thread's posts run in its order, `try_post`'s between `post`'s, and once
/// the burst is drained the inbox holds nothing. (Its channel frees each
/// block of slots as it is read, so the queue's length is its storage;
/// `tests/post_memory.rs` measures the bytes.)
#[test]
fn a_burst_from_four_threads_runs_in_order_and_leaves_no_queue_behind() {
    let _w = common::watchdog();
    const PER_THREAD: u32 = 20_000;
    let lp = EventLoop::builder().post_limit(usize::MAX).build().unwrap();
    let ran = Arc::new(Mutex::new(vec![Vec::new(); 4]));
    let posters: Vec<_> = (0..4)
        .map(|t| {
            let handle = lp.handle();
            let ran = ran.clone();
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let ran = ran.clone();
                    let job = move || ran.lock().unwrap()[t].push(i);
                    if i % 2 == 0 {
                        handle.post(job).unwrap();
                    } else {
                        handle.try_post(job).unwrap();
                    }
                }
            })
        })
        .collect();
    for p in posters {
        p.join().unwrap();
    }
    assert_eq!(lp.snapshot().posts_queued, 4 * PER_THREAD as usize);
    lp.run(RunMode::Default);
    assert_eq!(lp.snapshot().posts_queued, 0);
    let ran = ran.lock().unwrap();
    for (t, order) in ran.iter().enumerate() {
        assert!(
            order.iter().copied().eq(0..PER_THREAD),
            "thread {t}'s posts ran out of order"
        );
    }
}

/// The immediates a trace child runs before it waits or exits.
const CHILD_IMMEDIATES: usize = 3_000;

/// The child's part in the two tests below (`EVLOOP_BOUNDS_TRACE_CHILD` =
/// `wait:path` or `exit:path`): a loop tracing to `path` runs a chain of
/// immediates, then either waits for ever (its referenced handle is never
/// dropped) or exits the process from a callback, the loop never dropped.
fn trace_child(spec: &str) {
    let (mode, path) = spec.split_once(':').expect("mode:path");
    let lp = EventLoop::builder().trace_file(path).build().unwrap();
    let exit = mode == "exit";
    lp.run_main(move || {
        fn chain(left: usize, exit: bool) {
            if left > 0 {
                evloop::set_immediate(move || chain(left - 1, exit));
            } else if exit {
                std::process::exit(0);
            }
        }
        chain(CHILD_IMMEDIATES, exit);
        std::mem::forget(evloop::handle());
        println!("evloop-trace-child-ready");
    });
    unreachable!("the child waits for ever or exits");
}

/// Runs this test's binary as the child (see [`trace_child`]).
fn spawn_trace_child(test: &str, spec: &str) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("EVLOOP_BOUNDS_TRACE_CHILD", spec)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The callback slices of the immediates in a trace file's events.
fn immediates_in(events: &serde_json::Value) -> usize {
    events
        .as_array()
        .expect("a JSON array")
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "check")
        .count()
}

/// A process killed (SIGKILL) while its loop waits leaves a trace whose
/// events are all there: the file lacks only its closing `]`, which the
/// Trace Event Format allows, and parses once it is appended.
#[test]
fn a_killed_process_leaves_its_trace_on_disk() {
    let _w = common::watchdog();
    if let Ok(spec) = std::env::var("EVLOOP_BOUNDS_TRACE_CHILD") {
        return trace_child(&spec);
    }
    let path =
        std::env::temp_dir().join(format!("evloop-trace-killed-{}.json", std::process::id()));
    let mut child = spawn_trace_child(
        "bounds::a_killed_process_leaves_its_trace_on_disk",
        &format!("wait:{}", path.display()),
    );
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("evloop-trace-child-ready") {
        line.clear();
        let n = std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert!(n > 0, "the child ended before its loop ran");
    }
    // The loop writes its buffer when it goes idle: wait for every event.
    let read_closed = || {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&format!("{text}]")).ok()
    };
    while read_closed().is_none_or(|events| immediates_in(&events) < CHILD_IMMEDIATES) {
        // sleep: polls the file for a condition; no order depends on it.
        thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "{status:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(text.starts_with('['), "{}", &text[..text.len().min(80)]);
    assert!(
        !text.trim_end().ends_with(']'),
        "a killed process wrote no `]`"
    );
    let events: serde_json::Value =
        serde_json::from_str(&format!("{text}]")).expect("valid once `]` is appended");
    assert_eq!(immediates_in(&events), CHILD_IMMEDIATES);
}

/// A process that exits (here from a callback, its loop never dropped)
/// writes the rest of its trace and the closing `]` in the exit hook.
#[test]
fn a_process_that_exits_mid_run_ends_its_trace() {
    let _w = common::watchdog();
    if let Ok(spec) = std::env::var("EVLOOP_BOUNDS_TRACE_CHILD") {
        return trace_child(&spec);
    }
    let path = std::env::temp_dir().join(format!("evloop-trace-exit-{}.json", std::process::id()));
    let status = spawn_trace_child(
        "bounds::a_process_that_exits_mid_run_ends_its_trace",
        &format!("exit:{}", path.display()),
    )
    .wait()
    .unwrap();
    assert!(status.success(), "{status:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let events: serde_json::Value = serde_json::from_str(&text).expect("valid JSON as written");
    // Every immediate but the last, which exits inside its slice.
    assert_eq!(immediates_in(&events), CHILD_IMMEDIATES - 1);
}

/// Loops on two threads streaming to one file at once: their batches do
/// not interleave mid-event, and the file ends once, after both.
#[test]
fn two_loops_streaming_to_one_file_at_once_leave_a_valid_trace() {
    let _w = common::watchdog();
    const IMMEDIATES: usize = 2_000;
    let path = std::env::temp_dir().join(format!("evloop-trace-two-{}.json", std::process::id()));
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let loops: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let lp = EventLoop::builder().trace_file(&path).build().unwrap();
                // Both run at once, and neither is dropped (ending the file
                // if it were the only one) before both have run.
                barrier.wait();
                lp.run_main(|| {
                    fn chain(left: usize) {
                        if left > 0 {
                            evloop::set_immediate(move || chain(left - 1));
                        }
                    }
                    chain(IMMEDIATES);
                });
                barrier.wait();
            })
        })
        .collect();
    for l in loops {
        l.join().unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let events: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(immediates_in(&events), 2 * IMMEDIATES);
    assert!(text.trim_end().ends_with("\n]"), "ended");
}

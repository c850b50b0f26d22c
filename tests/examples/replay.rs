//! Recording a replay (`EVLOOP_REPLAY`) changes nothing a program prints,
//! and the page holds the program's output lines, in order, among steps
//! that nest properly (issue 17). Each article example runs as a child
//! process with recording on.

use std::process::Command;
use std::time::Duration;

use crate::common;
use crate::golden::{
    compare, env_of, evloop_expectation, examples_dir, expectation, hang_limit, run, snippets,
};

/// The recording inside a replay page.
pub(crate) fn recording(page: &str) -> serde_json::Value {
    let start = page
        .find(r#"<script type="application/json" id="evloop-data">"#)
        .expect("the page embeds its recording");
    let json = &page[start..];
    let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
    serde_json::from_str(json).expect("the recording is JSON")
}

/// Runs `set_timeout_order` (the article's first asynchronous example) on
/// virtual time with `env` (other replay variables removed, no stdin),
/// checks it printed the article's lines, and hands back its stderr.
/// Runs this binary's test `name` again as a child process with `env` set
/// (and no `EVLOOP_REPLAY` or `EVLOOP_SEED` from outside: the test decides
/// what it records), its output not captured by the harness (a replay
/// records what reaches standard output), and asserts that it succeeded.
fn run_test_as_child(name: &str, env: &[(&str, &std::ffi::OsStr)]) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env_remove("EVLOOP_REPLAY")
        .env_remove("EVLOOP_SEED")
        .envs(env.iter().copied())
        .output()
        .expect("run the child");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn run_set_timeout_order(env: &[(&str, &std::ffi::OsStr)]) -> String {
    crate::golden::build_examples();
    let mut cmd = Command::new(examples_dir().join("set_timeout_order"));
    cmd.env("EVLOOP_VIRTUAL_TIME", "1")
        .env_remove("EVLOOP_REPLAY")
        .env_remove("EVLOOP_STEP")
        .stdin(std::process::Stdio::null())
        .current_dir(crate::common::root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the example");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Start\nEnd\nTimer finished\n"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn recording_changes_no_output_and_the_page_holds_it_in_order() {
    // Building the examples may wait for cargo's lock on a busy machine.
    let _w = common::watchdog_for(Duration::from_secs(900));
    crate::golden::build_examples();
    let dir = std::env::temp_dir().join(format!("evloop-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in snippets() {
        let command = |replay: Option<&std::path::Path>| {
            let mut cmd = Command::new(examples_dir().join(&name));
            cmd.current_dir(crate::common::root());
            for (k, v) in env_of(&name) {
                cmd.env(k, v);
            }
            cmd.env_remove("EVLOOP_REPLAY");
            if let Some(path) = replay {
                cmd.env("EVLOOP_REPLAY", path);
            }
            cmd
        };
        let page_path = dir.join(format!("{name}.html"));
        let plain = run(command(Some(&page_path)), hang_limit())
            .unwrap_or_else(|e| panic!("{name} recorded: {e}"));
        // Recorded, it still prints what Node prints (the golden test's
        // expectation).
        let expected = expectation(&name).unwrap();
        compare(&name, &expected, &plain).unwrap_or_else(|e| panic!("recorded: {e}"));
        if let Some(exact) = evloop_expectation(&name).unwrap() {
            compare(&name, &exact, &plain).unwrap_or_else(|e| panic!("recorded: {e}"));
        }
        let page = std::fs::read_to_string(&page_path)
            .unwrap_or_else(|e| panic!("{name}: no page at {}: {e}", page_path.display()));
        let rec = recording(&page);
        let steps = rec["steps"].as_array().expect("steps");
        // Output printed before the first loop existed is not captured: the
        // page's lines are the end of the program's output, all of it here.
        let lines: Vec<&str> = plain.lines().collect();
        let outs: Vec<&str> = steps
            .iter()
            .filter(|s| s["k"] == "out")
            .map(|s| s["text"].as_str().unwrap())
            .collect();
        assert!(
            !outs.is_empty() || lines.is_empty(),
            "{name}: no output in the page"
        );
        assert_eq!(
            outs,
            lines[lines.len() - outs.len()..],
            "{name}: output lines"
        );
        // Every callback that starts returns, per loop, and none returns
        // without having started.
        let mut depth = std::collections::HashMap::new();
        for s in steps {
            let d = depth.entry(s["l"].as_u64().unwrap()).or_insert(0i64);
            match s["k"].as_str().unwrap() {
                "run" => *d += 1,
                "ret" => *d -= 1,
                _ => {}
            }
            assert!(*d >= 0, "{name}: a return without a call: {s}");
        }
        assert!(
            depth.values().all(|&d| d == 0),
            "{name}: unbalanced {depth:?}"
        );
        assert!(
            steps.iter().any(|s| s["k"] == "run" && s["q"] == "main"),
            "{name}: the main script is a step"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `EVLOOP_STEP=1` without a terminal prints every step on stderr and goes
/// on: the call stack and each queue with the lines that scheduled what
/// waits there; stdout stays the program's (issue 17, the terminal
/// stepper).
#[test]
fn the_terminal_stepper_shows_the_stack_and_the_queues() {
    // Building the example may wait for cargo's lock on a busy machine.
    let _w = common::watchdog_for(Duration::from_secs(600));
    let err = run_set_timeout_order(&[("EVLOOP_STEP", "1".as_ref())]);
    let text = include_str!("../../examples/set_timeout_order.rs");
    let line = 1 + text
        .lines()
        .position(|l| l.contains("evloop::set_timeout(1000"))
        .unwrap();
    // Step 2 is the timer's run: the stack holds it, and the queue it left
    // is empty again.
    let step2 = &err[err.find("── step 2").expect("a second step")..];
    assert!(step2.contains("timers phase"), "{step2}");
    assert!(
        step2.contains(&format!(
            "call stack (top first):\n  timer scheduled at examples/set_timeout_order.rs:{line}"
        )),
        "{step2}"
    );
    assert!(step2.contains("timers (by deadline): (empty)"), "{step2}");
    // Step 1 is the main script, with nothing queued yet.
    let step1 = &err[err.find("── step 1").unwrap()..err.find("── step 2").unwrap()];
    assert!(step1.contains("  main script\n"), "{step1}");
}

/// The same seed writes the same replay page, byte for byte (issue 22): a
/// seeded loop's page records virtual times (`t` is the loop's clock), so
/// nothing in it comes from the real clock. Here the timer's run is at
/// t = 1000 ms, which the instant virtual-time run never takes in real time.
#[test]
fn the_same_seed_writes_the_same_replay_page() {
    // Building the example may wait for cargo's lock on a busy machine.
    let _w = common::watchdog_for(Duration::from_secs(600));
    let dir = std::env::temp_dir().join(format!("evloop-seed-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = |name: &str| {
        let path = dir.join(name);
        run_set_timeout_order(&[
            ("EVLOOP_SEED", "7".as_ref()),
            ("EVLOOP_REPLAY", path.as_os_str()),
        ]);
        std::fs::read_to_string(&path).unwrap()
    };
    let first = page("a.html");
    assert_eq!(page("b.html"), first, "same seed, different pages");
    std::fs::remove_dir_all(&dir).unwrap();
    let steps = recording(&first)["steps"].as_array().unwrap().clone();
    let timer = (steps.iter())
        .find(|s| s["k"] == "out" && s["text"] == "Timer finished")
        .expect("the timer's line is recorded");
    assert_eq!(timer["t"].as_f64(), Some(1_000_000.0), "{timer}");
}

/// With pool jobs too, the page is a pure function of the seed: in a
/// seeded loop the loop itself records each job's `start` and `done` when
/// its model of the pool says they happen (at virtual times, on the thread
/// the seed picked, where the job really runs), not the pool threads in
/// real time. The child runs three jobs of uneven real length, a timer
/// and an immediate, printing as each callback runs; two runs with one
/// seed write the same page, byte for byte, and a seed that ends the jobs
/// in another order writes another page.
#[test]
fn the_same_seed_writes_the_same_replay_page_with_pool_jobs() {
    let _w = common::watchdog();
    const CHILD: &str = "EVLOOP_TEST_SEEDED_POOL_CHILD";
    if let Some(page) = std::env::var_os(CHILD) {
        let seed = std::env::var("EVLOOP_TEST_SEED").unwrap().parse().unwrap();
        let lp = evloop::EventLoop::builder()
            .seed(seed)
            .replay(page)
            .build()
            .unwrap();
        lp.run_main(|| {
            for (name, ms) in [("a", 3), ("b", 0), ("c", 1)] {
                evloop::queue_work(
                    move || {
                        // sleep: uneven real lengths, which the page must
                        // not show.
                        std::thread::sleep(Duration::from_millis(ms));
                        std::thread::current().name().unwrap().to_string()
                    },
                    move |thread| {
                        println!("{name} ran on {}", thread.unwrap());
                        evloop::set_timeout(2, move || println!("timer after {name}"));
                    },
                );
            }
            evloop::set_timeout(0, || println!("timeout"));
            evloop::set_immediate(|| println!("immediate"));
        });
        drop(lp);
        // Past the test harness's own lines (with their timing): the exit
        // hook writes the page as the loop left it.
        std::process::exit(0);
    }
    let dir = std::env::temp_dir().join(format!("evloop-seed-pool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = |name: &str, seed: u64| {
        let path = dir.join(name);
        run_test_as_child(
            "replay::the_same_seed_writes_the_same_replay_page_with_pool_jobs",
            &[
                (CHILD, path.as_os_str()),
                ("EVLOOP_TEST_SEED", seed.to_string().as_ref()),
            ],
        );
        std::fs::read_to_string(&path).unwrap()
    };
    let first = page("a.html", 4);
    for run in ["b.html", "c.html"] {
        assert_eq!(page(run, 4), first, "same seed, different pages");
    }
    let other = page("d.html", 0);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_ne!(other, first, "seeds 0 and 4 end the jobs in other orders");
    let lines = |page: &str| -> Vec<String> {
        let steps = recording(page)["steps"].as_array().unwrap().clone();
        (steps.iter())
            .filter(|s| s["k"] == "out" && s["text"].as_str().unwrap().contains(" ran on "))
            .map(|s| s["text"].as_str().unwrap()[..1].to_string())
            .collect()
    };
    assert_eq!(lines(&first), ["c", "a", "b"]);
    assert_eq!(lines(&other), ["a", "b", "c"]);
    // The jobs' steps are the loop's, with its time and the seed's thread:
    // the thread a job reports running on.
    let steps = recording(&first)["steps"].as_array().unwrap().clone();
    let jobs: Vec<&serde_json::Value> = (steps.iter())
        .filter(|s| s["k"] == "job" && (s["ev"] == "start" || s["ev"] == "done"))
        .collect();
    assert_eq!(jobs.len(), 6, "{jobs:#?}");
    for j in &jobs {
        assert!(j["ms"].is_u64(), "{j}");
    }
    let started: Vec<(u64, u64)> = (jobs.iter())
        .filter(|s| s["ev"] == "start")
        .map(|s| (s["id"].as_u64().unwrap(), s["th"].as_u64().unwrap()))
        .collect();
    assert_eq!(started, [(0, 0), (1, 1), (2, 2)]);
    let outs: Vec<&str> = (steps.iter())
        .filter(|s| s["k"] == "out")
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(outs.contains(&"c ran on evloop-pool-2"), "{outs:?}");
}

/// A replay page that cannot be written (a missing folder) is an error on
/// stderr naming the path; the program runs and prints as always.
#[test]
fn an_unwritable_replay_page_is_reported_and_the_program_runs_on() {
    // Building the example may wait for cargo's lock on a busy machine.
    let _w = common::watchdog_for(Duration::from_secs(600));
    let page = "/nonexistent-evloop-dir/run.html";
    let err = run_set_timeout_order(&[("EVLOOP_REPLAY", page.as_ref())]);
    assert!(
        err.contains(&format!("cannot write the replay page {page}")),
        "{err}"
    );
}

/// While a replay records, standard output goes through a pipe: a program
/// that prints far more than a pipe holds between two steps must not block
/// on it. The test runs itself again as a child that records and prints a
/// 1 MiB line inside one callback.
#[test]
fn printing_a_megabyte_at_once_while_recording_does_not_block() {
    let _w = common::watchdog();
    const CHILD: &str = "EVLOOP_TEST_FLOOD_CHILD";
    if let Some(page) = std::env::var_os(CHILD) {
        let lp = evloop::EventLoop::builder().replay(page).build().unwrap();
        lp.run_main(|| {
            evloop::set_immediate(|| println!("{}", "x".repeat(1 << 20)));
        });
        drop(lp);
        println!("flood done");
        return;
    }
    let page = std::env::temp_dir().join(format!("evloop-flood-{}.html", std::process::id()));
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "replay::printing_a_megabyte_at_once_while_recording_does_not_block",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, &page);
    // The child's stdout goes to a file, not a pipe this test would only
    // read at the end (which would block the child on its own).
    let out_path = page.with_extension("out");
    let file = std::fs::File::create(&out_path).unwrap();
    let mut child = cmd.stdout(file).spawn().expect("start the child");
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > hang_limit() {
            let _ = child.kill();
            panic!("the recording child blocked on its output");
        }
        // sleep: only paces the polling for the child's exit.
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.wait().unwrap().success());
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    let _ = std::fs::remove_file(&page);
    let _ = std::fs::remove_file(&out_path);
    assert!(
        stdout.contains(&"x".repeat(1 << 20)),
        "the line got through"
    );
    assert!(stdout.contains("flood done"));
}

/// Idle, prepare and check handles in a replay: the idle/prepare phase is
/// recorded in the iterations that run such a handle, and each callback
/// runs from `idle`, `prepare` or `check` (the page names them). The test
/// runs itself again as a child that records (the capture of standard
/// output is process-wide).
#[test]
fn watchers_appear_in_the_replay_in_their_phases() {
    let _w = common::watchdog();
    const CHILD: &str = "EVLOOP_TEST_WATCHERS_CHILD";
    if let Some(page) = std::env::var_os(CHILD) {
        let lp = evloop::EventLoop::builder()
            .virtual_time(true)
            .replay(page)
            .build()
            .unwrap();
        lp.run_main(|| {
            evloop::Idle::new().start(|me| me.close(|| {}));
            evloop::Prepare::new().start(|me| me.close(|| {}));
            evloop::Check::new().start(|me| me.close(|| {}));
        });
        return;
    }
    let page = std::env::temp_dir().join(format!("evloop-watchers-{}.html", std::process::id()));
    run_test_as_child(
        "replay::watchers_appear_in_the_replay_in_their_phases",
        &[(CHILD, page.as_os_str())],
    );
    let html = std::fs::read_to_string(&page).unwrap();
    let _ = std::fs::remove_file(&page);
    let data = recording(&html);
    let steps = data["steps"].as_array().unwrap();
    let seen: Vec<String> = steps
        .iter()
        .filter_map(|s| match s["k"].as_str()? {
            "phase" => Some(format!("phase {}", s["p"].as_str()?)),
            "run" => Some(format!("run {}", s["q"].as_str()?)),
            _ => None,
        })
        .skip_while(|s| s != "phase idle")
        .take(7)
        .collect();
    assert_eq!(
        seen,
        [
            "phase idle",
            "run idle",
            "run prepare",
            "phase poll",
            "phase check",
            "run check",
            "phase close",
        ],
        "{steps:#?}"
    );
    let idle_phases = steps.iter().filter(|s| s["p"] == "idle").count();
    assert_eq!(idle_phases, 1, "only the iteration that ran the handles");
}

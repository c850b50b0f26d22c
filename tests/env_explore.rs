//! `EVLOOP_EXPLORE=N`: the first loop a process builds explores the
//! unchanged program instead, each run a child process of the same
//! executable with `EVLOOP_SEED`, and prints each distinct output with its
//! seed; a value that is not a whole number is an `InvalidInput` error from
//! `build()` naming the variable and its value; blank and `0` are off.
//! Alone in its test binary, and one test, because it changes the process
//! environment.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use evloop::EventLoop;

fn set(value: Option<&str>) {
    common::env::set("EVLOOP_EXPLORE", value);
}

/// examples/timeout_vs_immediate, built.
fn example() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "-q", "--example", "timeout_vs_immediate"])
        .current_dir(common::root())
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the example failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join("target"));
    target.join("debug/examples/timeout_vs_immediate")
}

/// Runs the example with `env`; its stdout and exit code.
fn run(env: &[(&str, &str)], args: &[&str]) -> (String, Option<i32>) {
    let mut cmd = Command::new(example());
    cmd.args(args)
        .env_remove("EVLOOP_SEED")
        .env_remove("EVLOOP_EXPLORE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the example runs");
    (String::from_utf8(out.stdout).unwrap(), out.status.code())
}

/// The report's outcomes: (heading, lines).
fn outcomes(report: &str) -> Vec<(String, Vec<String>)> {
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    for line in report.lines().skip(1) {
        match line.strip_prefix("  ") {
            Some(l) => found.last_mut().unwrap().1.push(l.to_string()),
            None => found.push((line.to_string(), Vec::new())),
        }
    }
    found
}

#[test]
fn the_explore_switch_reports_every_order_of_an_unchanged_program() {
    // Building the example may wait for cargo's lock on a busy machine.
    let _w = common::watchdog_for(Duration::from_secs(900));
    common::env::assert_rejected(
        "EVLOOP_EXPLORE",
        &["false", "off", "abc", "-1", "1.5", "1e3"],
        "the number of runs to explore is a whole number (0 or blank: off)",
    );
    // Blank and 0 are off: the loop runs the program here.
    for off in ["", "  ", "0", " 0 "] {
        set(Some(off));
        let lp = EventLoop::new().expect(off);
        assert_eq!(lp.run_main(|| 7), 7);
    }
    set(None);

    let (report, code) = run(&[("EVLOOP_EXPLORE", "10")], &[]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.starts_with(
            "EVLOOP_EXPLORE: 2 outcome(s) in 2 run(s), every schedule tried; each run a child \
             process with EVLOOP_SEED=N, killed after 60s\n"
        ),
        "{report}"
    );
    let found = outcomes(&report);
    assert_eq!(
        found,
        [
            (
                "outcome 1: seed 0, 1 run(s), 2 line(s)".to_string(),
                vec!["immediate".to_string(), "timeout".to_string()]
            ),
            (
                "outcome 2: seed 1, 1 run(s), 2 line(s)".to_string(),
                vec!["timeout".to_string(), "immediate".to_string()]
            ),
        ],
        "{report}"
    );
    // Each seed replays its outcome alone.
    for (seed, (_, lines)) in ["0", "1"].iter().zip(&found) {
        let (out, code) = run(&[("EVLOOP_SEED", seed)], &[]);
        assert_eq!(code, Some(0));
        assert_eq!(
            out,
            lines.iter().map(|l| format!("{l}\n")).collect::<String>()
        );
    }

    // A run that exits with status 1 (process::exit, mid-run) still leaves
    // its choices: its outcome shows its seed and its status, and the
    // exploration exits with status 1.
    let (report, code) = run(&[("EVLOOP_EXPLORE", "10")], &["--check"]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        outcomes(&report)[1],
        (
            "outcome 2: seed 1, 1 run(s), 2 line(s), exit status: 1".to_string(),
            vec!["timeout".to_string(), "wrong order".to_string()]
        ),
        "{report}"
    );
    let (out, code) = run(&[("EVLOOP_SEED", "1")], &["--check"]);
    assert_eq!((out.as_str(), code), ("timeout\nwrong order\n", Some(1)));
}

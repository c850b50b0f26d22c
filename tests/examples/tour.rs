//! The guided tour runs to the end with `--quick`, prints its stops in order,
//! and fits an 80-column terminal.

use crate::common;

use std::process::Command;

#[test]
fn the_tour_runs_quickly_and_fits_80_columns() {
    // `cargo run` may wait for cargo's lock and build the example first,
    // which on a busy machine can take minutes.
    let _w = common::watchdog_for(std::time::Duration::from_secs(900));
    let out = Command::new(env!("CARGO"))
        .args(["run", "-q", "--example", "tour", "--", "--quick"])
        .current_dir(crate::common::root())
        .output()
        .expect("cargo run --example tour");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
    let pos = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("missing {needle:?}"))
    };
    // The first stop, in Node's order, with the phase that ran each step.
    let order = [
        "main    sync",
        "main    next tick",
        "main    microtask",
        "check   immediate",
        "timers  timeout",
    ];
    for w in order.windows(2) {
        assert!(
            pos(w[0]) < pos(w[1]),
            "{} should come before {}",
            w[0],
            w[1]
        );
    }
    assert!(text.contains("queues: next-tick 1, microtask 1, timers 1, immediates 1"));
    for stop in 1..=11 {
        pos(&format!("== {stop}. "));
    }
    // Stop 4 reads a file: its callback runs in the poll phase, then the
    // immediate, then the timeout.
    let stop4 = &text[pos("== 4. ")..pos("== 5. ")];
    let at = |needle: &str| {
        stop4
            .find(needle)
            .unwrap_or_else(|| panic!("stop 4 lacks {needle:?}"))
    };
    assert!(at("poll    I/O callback") < at("check   immediate"));
    assert!(at("check   immediate") < at("timers  timeout"));
    // Stop 8: the three parallel sleeps overlap (virtual time: exactly).
    assert!(text.contains("done at 300 ms: each sleep waits for the last"));
    assert!(text.contains("done at 100 ms: all three timers ran at once"));
    assert!(text.contains("examples/README.md"));
    // The closing hints name examples that exist.
    let hinted: Vec<&str> = text
        .split("--example ")
        .skip(1)
        .map(|rest| rest.split([' ', '`', '\n']).next().unwrap())
        .collect();
    assert!(hinted.len() >= 4, "{hinted:?}");
    for name in hinted {
        let found = ["examples", "examples/repo_only"].iter().any(|dir| {
            crate::common::root()
                .join(dir)
                .join(format!("{name}.rs"))
                .exists()
        });
        assert!(found, "the tour hints at a missing example: {name}");
    }
}

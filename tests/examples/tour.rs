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
        .current_dir(env!("CARGO_MANIFEST_DIR"))
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
    assert!(text.contains("examples/README.md"));
}

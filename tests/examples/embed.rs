//! The embed example's host outlives evloop's work without spinning
//! (issue 21): it counts its turns, and with evloop idle it wakes only for
//! its own frames and input.

use crate::common;

use std::process::Command;

#[test]
fn the_embedding_host_sleeps_once_evloop_is_idle() {
    // `cargo run` may wait for cargo's lock and build the example first.
    let _w = common::watchdog_for(std::time::Duration::from_secs(900));
    let out = Command::new(env!("CARGO"))
        .args(["run", "-q", "--example", "embed"])
        .current_dir(crate::common::root())
        .output()
        .expect("cargo run --example embed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "evloop: immediate",
        "evloop: interval tick 3",
        "evloop: posted from a thread",
        "host: input \"key\"",
        "host: frame 6",
        "evloop: late timer",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    // "host: T turns in 6 frames, I of them with evloop idle"
    let last = text.lines().last().unwrap();
    let words: Vec<&str> = last.split_whitespace().collect();
    let idle: u64 = words[6].parse().unwrap_or_else(|_| panic!("{last}"));
    // Six frames, one input, a wake-up or two that come early: a handful.
    // (Following a zero timeout, the host spun about a million times.)
    assert!(idle >= 1, "{last}");
    assert!(idle <= 30, "the host spins while evloop is idle: {last}");
}

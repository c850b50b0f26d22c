//! The unit tests' watchdog (tests/common has the integration suites'):
//! a unit test that runs a loop arms one first thing, so a lost wake-up
//! fails in seconds with the test's name instead of hanging `cargo test`.

use std::io::Write as _;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// Disarms the watchdog when dropped.
pub(crate) struct Watchdog(#[allow(dead_code)] mpsc::Sender<()>);

/// Arms a watchdog for the calling test (named after its thread, which
/// libtest names after the test): if the test still runs after 60 s (times
/// `EVLOOP_TEST_SLOWDOWN`, as .ci/valgrind.sh sets it), it prints the
/// test's name and exits the process with status 101.
pub(crate) fn watchdog() -> Watchdog {
    let slowdown = match std::env::var("EVLOOP_TEST_SLOWDOWN") {
        Ok(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| n >= 1)
            .unwrap_or_else(|| {
                panic!("EVLOOP_TEST_SLOWDOWN={v:?}: expected a whole number from 1 up")
            }),
        Err(_) => 1,
    };
    let limit = Duration::from_secs(60) * slowdown;
    let name = std::thread::current().name().unwrap_or("?").to_string();
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
            // Straight to the process's stderr: `eprintln!` would go to the
            // test's captured output, which exiting discards.
            let _ = writeln!(
                std::io::stderr(),
                "watchdog: test `{name}` still running after {limit:?}: it hangs"
            );
            std::process::exit(101);
        }
    });
    Watchdog(tx)
}

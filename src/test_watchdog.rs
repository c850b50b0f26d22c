//! The test watchdog, one file for both kinds of test: the unit tests use it
//! as `crate::test_watchdog`, and tests/common/mod.rs includes this same
//! file (`#[path]`) for the integration suites. Every test that could wait
//! on something arms one first thing, so a hang (a lost wake-up, a loop
//! that never exits, a peer that never answers) fails within a minute with
//! the test's name instead of holding `cargo test` until CI's own limit.

use std::io::Write as _;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// An armed watchdog; dropping it (when the test ends) disarms it.
pub(crate) struct Watchdog(#[allow(dead_code)] mpsc::Sender<()>);

/// How much slower than usual the tests run: `EVLOOP_TEST_SLOWDOWN`, or 1.
/// .ci/valgrind.sh sets 20, since code under valgrind runs 20 to 50 times
/// slower. Anything but a whole number from 1 up is an error, never ignored.
pub(crate) fn slowdown() -> u32 {
    match std::env::var("EVLOOP_TEST_SLOWDOWN") {
        Err(std::env::VarError::NotPresent) => 1,
        Ok(v) => match v.trim().parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => panic!("EVLOOP_TEST_SLOWDOWN={v:?}: expected a whole number from 1 up"),
        },
        Err(e) => panic!("EVLOOP_TEST_SLOWDOWN: {e}"),
    }
}

/// Arms a [`Watchdog`] for the calling test: if it is still running after
/// 60 s (times [`slowdown`]), the watchdog prints the test's name and exits
/// the process with status 101. The tests take well under a second each on
/// a quiet machine and a few on a busy one. The name is the calling
/// thread's, which libtest sets to the test's.
pub(crate) fn watchdog() -> Watchdog {
    watchdog_for(Duration::from_secs(60))
}

/// [`watchdog`] with a limit of its own (still times [`slowdown`]), for the
/// few tests that run long by design: the soak, the model checks.
pub(crate) fn watchdog_for(limit: Duration) -> Watchdog {
    let limit = limit * slowdown();
    let name = std::thread::current()
        .name()
        .unwrap_or("<unnamed thread>")
        .to_string();
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

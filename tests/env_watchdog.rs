//! `EVLOOP_WATCHDOG_MS`: a value that is not a whole number of milliseconds
//! from 1 up is an `InvalidInput` error from `build()` naming the variable
//! and its value (a typo must not silently turn the watchdog off); an empty
//! value is the same as unset; a good value starts the watchdog. Alone in its
//! test binary, and one test, because it changes the process environment.

mod common;

use std::time::Duration;

use evloop::EventLoop;

fn set(value: Option<&str>) {
    common::env::set("EVLOOP_WATCHDOG_MS", value);
}

#[test]
fn bad_watchdog_thresholds_in_the_environment_are_clear_errors() {
    let _w = common::watchdog();
    common::env::assert_rejected(
        "EVLOOP_WATCHDOG_MS",
        &["abc", "0", "-5", "1.5", "100ms", "99999999999999999999999"],
        "the watchdog threshold must be a whole number of milliseconds, at least 1",
    );
    // An explicit threshold wins over the variable.
    EventLoop::builder()
        .watchdog(Duration::from_millis(50))
        .build()
        .expect("the builder's threshold is used");
    for fine in [None, Some(""), Some("100"), Some(" 250 ")] {
        set(fine);
        let lp = EventLoop::new().unwrap_or_else(|e| panic!("{fine:?}: {e}"));
        // The loop runs normally either way.
        let ran = std::rc::Rc::new(std::cell::Cell::new(false));
        let r = ran.clone();
        lp.run_main(move || evloop::set_timeout(1, move || r.set(true)));
        assert!(ran.get(), "{fine:?}");
    }
    set(None);
}
